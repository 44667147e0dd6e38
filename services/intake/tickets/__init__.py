"""Calls and tickets: the three ways a call ends, progress, callers' new situations."""
