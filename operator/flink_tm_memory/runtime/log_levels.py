"""kopf's log lines at the levels an operator alerts on: ERROR only for what needs a person.

kopf logs every handler's success at INFO (``Handler 'forget-deleted' succeeded.``, ``Resuming is
processed: 1 succeeded; 0 failed.``), once per watch event of every resource, whether the handler did
anything or not; the operator's own lines (``runtime.logs``) already say at INFO what was written, so
these become DEBUG. (A validating webhook's denial is not kopf's to log: ``runtime.admission`` serves
the webhooks and logs a denial at INFO.) A request kopf retries (``Request attempt #1/9 failed; will
retry``: an API
server still starting answers 429 or 503) and a handler kopf retries (``failed temporarily``) are
WARNINGs: nothing is lost yet; what stays ERROR is kopf giving up (``escalating``, ``will exceed``,
``will time out``) and every exception. kopf warns that resources without a CRD "cannot be served"; for
an optional kind (FlinkDeployments, in a cluster without the Flink Kubernetes Operator) that is how the
cluster is meant to be: INFO.

kopf has no setting for these levels, so ``KopfLevels``, a ``logging.Filter`` (the standard library's
public hook), rewrites a matching record's level before any handler sees it (so kopf also posts no
Kubernetes Event for a line turned DEBUG) and drops it when its logger is not enabled for the new
level. ``install_log_levels`` puts one on every kopf logger, as ``runtime.redaction`` does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

KOPF_PREFIX = "kopf"

_HANDLER = r"(?:Handler|Webhook|Indexer|Activity)"
"""How kopf names a handler in its lines: ``Handler 'id'``, ``Webhook 'id'``, ``Indexer 'id'``,
``Activity 'id'`` (login, probes: a probe's success is logged at every liveness check)."""
_SUCCEEDED = re.compile(rf"{_HANDLER} '[^']+' succeeded\.")
_PROCESSED = re.compile(r"\w+ is processed: \d+ succeeded; 0 failed\.")
_REQUEST_RETRIED = re.compile(r"Request attempt #\d+(/\d+)? failed; will retry: ")
_HANDLER_RETRIED = re.compile(rf"{_HANDLER} '[^']+' failed temporarily: ")
_UNRESOLVED = re.compile(r"Unresolved resources cannot be served \(try creating their CRDs\): (?P<what>.*)")
_GROUP = re.compile(r"group='(?P<group>[^']*)'")


class KopfLevels(logging.Filter):
    """Gives kopf's routine lines the level they deserve (see the module's docstring)."""

    def __init__(self, optional_groups: Iterable[str] = ()) -> None:
        super().__init__()
        self._optional_groups = frozenset(optional_groups)

    def level_of(self, message: str, level: int) -> int:
        """The level a kopf line logged at ``level`` is given."""
        if level == logging.INFO and (_SUCCEEDED.fullmatch(message) or _PROCESSED.fullmatch(message)):
            return logging.DEBUG
        if level == logging.WARNING and (unresolved := _UNRESOLVED.match(message)):
            groups = {found["group"] for found in _GROUP.finditer(unresolved["what"])}
            return logging.INFO if groups and groups <= self._optional_groups else level
        if level == logging.ERROR and (_REQUEST_RETRIED.match(message) or _HANDLER_RETRIED.match(message)):
            return logging.WARNING
        return level

    def filter(self, record: logging.LogRecord) -> bool:
        level = self.level_of(record.getMessage(), record.levelno)
        if level == record.levelno:
            return True
        record.levelno, record.levelname = level, logging.getLevelName(level)
        return logging.getLogger(record.name).isEnabledFor(level)


def install_log_levels(optional_groups: Iterable[str] = ()) -> None:
    """Puts one ``KopfLevels`` on every kopf logger, replacing one put there before.

    ``optional_groups``: API groups whose absence from the cluster is normal.
    """
    levels = KopfLevels(optional_groups)
    names = [name for name in logging.root.manager.loggerDict if name.startswith(KOPF_PREFIX)]
    for name in {*names, KOPF_PREFIX, "kopf.objects"}:
        logger = logging.getLogger(name)
        for existing in [found for found in logger.filters if isinstance(found, KopfLevels)]:
            logger.removeFilter(existing)
        logger.addFilter(levels)
