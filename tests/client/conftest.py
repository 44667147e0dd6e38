import pytest
from hotline_client import cli


@pytest.fixture(autouse=True)
def fresh_labels():
    """Each test's services answer the label request anew (the CLI caches it per process)."""
    cli._labels.cache_clear()
    yield
    cli._labels.cache_clear()
