"""Intake: calls, classification, the knowledge base, callers' personal data."""
