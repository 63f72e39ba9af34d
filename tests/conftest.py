"""Session-wide test setup shared by every suite."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def main_thread_event_loop() -> Iterator[None]:
    """The main thread's current event loop, set for the session and closed at its end.

    pytest-asyncio keeps the main thread's current loop aside while an async test runs, and asks for
    it with ``asyncio.get_event_loop()``, which makes a new loop when there is none and that loop is
    never closed: the garbage collector later reports it (and its socket pair) as unclosed, as an
    error of whichever test it happens to run in. With one loop set here, nothing is left unclosed.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        asyncio.set_event_loop(None)
        loop.close()
