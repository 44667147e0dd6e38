"""Supervision (督办) of late or problematic tickets (Art 23)."""
