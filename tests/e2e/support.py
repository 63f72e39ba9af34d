"""Small helpers the end-to-end tests share: waiting for a condition, asking an HTTP endpoint, checking
that the operator trusts its webhooks."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T | None], timeout: float = 60, what: str = "the condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.25)


def answers(url: str) -> bool:
    """``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def webhooks_trusted(kubectl: Callable[..., subprocess.CompletedProcess[str]], name: str) -> bool:
    """Both webhook configurations ``name`` carry a ``caBundle`` (the operator wrote its CA)."""
    for kind in ("validatingwebhookconfiguration", "mutatingwebhookconfiguration"):
        found = kubectl("get", kind, name, "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}", check=False)
        if found.returncode != 0 or not found.stdout:
            return False
    return True
