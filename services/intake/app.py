"""The intake service's app (served with `hotline serve intake`)."""

from typing import Any

from fastapi import FastAPI

from shared.service import create_app


def build_app(**overrides: Any) -> FastAPI:
    """The intake app; tests pass an engine or a clock through ``overrides``."""
    return create_app(service="intake", **overrides)
