"""The dispatch service's app (served with `hotline serve dispatch`)."""

from typing import Any

from fastapi import FastAPI

from shared.service import create_app


def build_app(**overrides: Any) -> FastAPI:
    """The dispatch app; tests pass an engine or a clock through ``overrides``."""
    return create_app(service="dispatch", **overrides)
