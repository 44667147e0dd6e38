import pytest

from tests.support.stack import Stack


@pytest.fixture
def stack(fresh_database_url, tmp_path):
    """The three services as real processes on a database of this test's own."""
    stack = Stack(fresh_database_url, tmp_path)
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture
def console(stack, tmp_path):
    """The web workbench as a process, talking to the stack's services."""
    from tests.support.stack import ServiceProcess, free_port

    env = {**stack["intake"].env, "HOTLINE_CONSOLE_REFRESH_SECONDS": "1"}
    process = ServiceProcess("console", port=free_port(), env=env, log_dir=tmp_path)
    process.start()
    yield process
    process.stop()


@pytest.fixture
async def browser():
    """Debian's Chromium driven by Playwright (browser builds cannot be downloaded here; the
    Makefile installs the Debian package)."""
    import shutil

    from playwright.async_api import async_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is missing: `make test` installs it (apt-get)"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, headless=True)
        yield launched
        await launched.close()
