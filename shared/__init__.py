"""What all three hotline services share: settings, database, auth, errors, time, logs, events."""
