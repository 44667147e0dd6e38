"""Dispatch: unit directory, routing, the ticket workflow, unit polling."""
