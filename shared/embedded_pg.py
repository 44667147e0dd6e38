"""The embedded PostgreSQL of a development stack and of the test suite (pgserver).

It listens on a Unix socket inside its data folder only, so it never collides with a
PostgreSQL server on the machine's port 5432.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url


def start(data_dir: Path, *, database: str, keep_running: bool = False) -> tuple[Any, str]:
    """Start (or join) the server kept in ``data_dir``; return it and a URL to ``database``.

    The server stops when the last process using it exits, unless ``keep_running``.
    """
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pgserver  # imported here: production images talk to a real server instead

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None if keep_running else "stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    url = make_url(server.get_uri()).set(database=database)
    return server, url.render_as_string(hide_password=False)


def program(name: str) -> Path | None:
    """A client program of the embedded server's PostgreSQL (pg_dump, pg_restore …), of the
    same version as its server; None where it is not installed (production images)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from pgserver._commands import POSTGRES_BIN_PATH
        except ImportError:
            return None
    found = Path(POSTGRES_BIN_PATH) / name
    return found if found.exists() else None
