"""SLA: the working-day calendar, every clock, breaches, supervision, dashboards, KPIs."""
