"""Overdue and due-soon dashboards and unit KPIs (Art 9, 24)."""
