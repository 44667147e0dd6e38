import pytest

from tests.support.stack import Stack


@pytest.fixture
def stack(fresh_database_url, tmp_path):
    """The three services as real processes on a database of this test's own."""
    stack = Stack(fresh_database_url, tmp_path)
    stack.start()
    yield stack
    stack.stop()
