"""The operator's log lines, as kopf formats them: ``plain``, ``full`` (timestamps, levels) or ``json``.

Both processes of the operator (reconciliation and admission, ``service.isolated_admission``) write
to the container's stderr; each configures its logging here, with the same format and verbosity,
so a log collector reads one stream of one kind.
"""

from __future__ import annotations

import kopf

LOG_FORMATS = {"plain": kopf.LogFormat.PLAIN, "full": kopf.LogFormat.FULL, "json": kopf.LogFormat.JSON}


def configure_logging(log_format: str, *, verbose: bool) -> None:
    """kopf's logging in ``log_format`` (a key of ``LOG_FORMATS``); DEBUG lines too when ``verbose``."""
    kopf.configure(verbose=verbose, log_format=LOG_FORMATS[log_format])
