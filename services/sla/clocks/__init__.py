"""Every clock of every ticket: start, restart, stop, resume, extension, adjustment, breach."""
