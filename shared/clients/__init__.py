"""Typed HTTP clients for service-to-service calls."""
