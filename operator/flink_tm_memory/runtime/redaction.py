"""Values of secret-looking Flink options never reach a log line, whatever logs the object.

The operator's own log lines name resources, never values. But with ``--verbose`` kopf logs whole
objects, patches and diffs at debug level (``Creation is in progress: {body}``, ``Merge-patching the
resource with: {patch}``, where the patch carries kopf's and the operator's annotations, which hold
the spec as JSON), and the Kubernetes client logs response bodies. A FlinkTaskManagerMemory's
``flinkConfiguration`` may hold ``s3.secret-key`` or ``fs.azure.account.key.<account>``.

``SecretRedactor`` rewrites a record's message before any handler sees it: after a quoted key that
Flink itself treats as sensitive (``GlobalConfiguration.isSensitive``: the key, lower-cased, contains
one of ``SENSITIVE_KEY_PARTS``), the value is replaced by ``******`` (Flink's own mask) in the three
shapes these dumps take: a Python mapping (``'key': 'value'``), JSON (``"key":"value"``, also inside
an annotation's string) and kopf's diff tuples (``('add', ('spec', 'flinkConfiguration', 'key'),
old, new)``). ``install_redaction`` puts it on every logger of kopf, the Kubernetes client, urllib3
and aiohttp (a filter on a logger applies to the records made through it, so each gets one).
"""

from __future__ import annotations

import logging
import re

SENSITIVE_KEY_PARTS = (
    "password",
    "secret",
    "fs.azure.account.key",
    "apikey",
    "api-key",
    "auth-params",
    "service-key",
    "token",
    "basic-auth",
    "jaas.config",
    "http-headers",
)
"""Flink's ``GlobalConfiguration.SENSITIVE_KEYS`` (2.x), plus ``api-key``."""
MASK = "******"
LOGGER_PREFIXES = ("kopf", "kubernetes", "urllib3", "aiohttp", "flink_tm_memory")

_SENSITIVE = re.compile("|".join(re.escape(part) for part in SENSITIVE_KEY_PARTS), re.IGNORECASE)
# A quoted key containing a sensitive part (its quote may be escaped: JSON inside a repr'd string),
# then what comes before its value: ': ' in a mapping, '), ' in a diff tuple (then two values).
_KEY = re.compile(
    r"""(?P<escape>\\?)(?P<quote>['"])(?P<key>[^'"\n]{0,512}?)(?P=escape)(?P=quote)(?P<after>\s*:\s*|\),\s*)"""
)
_CLOSERS = {"{": "}", "[": "]", "(": ")"}


def redact(text: str) -> str:
    """``text`` with the value after every sensitive key masked (when in doubt, more is masked)."""
    if _SENSITIVE.search(text) is None:
        return text  # the common case: one search, no rewrite
    pieces: list[str] = []
    position = 0
    for match in _KEY.finditer(text):
        if match.start() < position or _SENSITIVE.search(match["key"]) is None:
            continue
        values = 2 if match["after"].startswith(")") else 1
        end = match.end()
        for index in range(values):
            if index:
                comma = re.match(r",\s*", text[end:])
                if comma is None:
                    break
                end += comma.end()
            value_end = _value_end(text, end, escaped=bool(match["escape"]))
            pieces.extend((text[position:end], repr(MASK)))
            position = end = value_end
    pieces.append(text[position:])
    return "".join(pieces)


def _value_end(text: str, start: int, *, escaped: bool) -> int:
    """Where the value starting at ``start`` ends: a quoted string, a bracketed value, or a bare word."""
    if escaped and text.startswith(('\\"', "\\'"), start):
        quote = text[start + 1]
        index = text.find("\\" + quote, start + 2)
        while index > 0 and text[index - 1] == "\\":  # an escaped quote inside (three backslashes)
            index = text.find("\\" + quote, index + 2)
        return len(text) if index < 0 else index + 2
    opening = text[start : start + 1]
    if opening in ("'", '"'):
        index = start + 1
        while index < len(text) and (text[index] != opening or text[index - 1] == "\\"):
            index += 1  # a quote after a backslash is escaped, at one level of quoting or another
        return min(index + 1, len(text))
    if opening in _CLOSERS:
        depth, index = 0, start
        while index < len(text):
            depth += (text[index] == opening) - (text[index] == _CLOSERS[opening])
            index += 1
            if depth == 0:
                break
        return index
    bare = re.match(r"[^,}\])\s]*", text[start:])
    return start + (bare.end() if bare else 0)


class SecretRedactor(logging.Filter):
    """Masks sensitive values in a record's message (and drops its arguments, now formatted in)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install_redaction() -> None:
    """Puts one ``SecretRedactor`` on every logger of kopf, the Kubernetes client, urllib3 and aiohttp."""
    names = [name for name in logging.root.manager.loggerDict if name.startswith(LOGGER_PREFIXES)]
    for name in {*names, *LOGGER_PREFIXES, "kopf.objects"}:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, SecretRedactor) for existing in logger.filters):
            logger.addFilter(SecretRedactor())
