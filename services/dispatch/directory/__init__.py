"""The unit directory and routing rules (kept as data, editable by an administrator)."""
