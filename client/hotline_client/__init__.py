"""Client of the 12345 hotline suite: typed calls, sync and async, and the `hotline` CLI."""

from hotline_client.api import AsyncClient, Client, Endpoints
from hotline_client.errors import BadRequest, HotlineError, Refused, Unavailable

__all__ = [
    "AsyncClient",
    "BadRequest",
    "Client",
    "Endpoints",
    "HotlineError",
    "Refused",
    "Unavailable",
]
