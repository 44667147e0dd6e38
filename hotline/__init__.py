"""The ``hotline`` command: run the stack, migrate, mint development tokens."""
