"""An ASGI app on a real port, in a thread of the test process (test doubles of others'
services: the city's identity provider, its object storage)."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn


class InThread:
    def __init__(self, app: Any, port: int) -> None:
        # No logging set up by uvicorn: the test process's loggers stay as the suite set them.
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level=None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> None:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
