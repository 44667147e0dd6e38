"""Test helpers: databases, in-process apps and real service processes."""
