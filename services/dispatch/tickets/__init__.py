"""Tickets at dispatch: the workflow's state, its history, units' polls."""
