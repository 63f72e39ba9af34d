"""Keeps the webhook's own certificates: filled, renewed and rotated in the store, served from local files.

Every replica runs one ``CertificateKeeper``. Each check (every ``configuration_check_interval``) it
reads the store, decides with ``certificate_schedule`` what is due at this instant (on an injected
clock), carries it out and writes it back on the version it read; on a conflict another replica won,
and the keeper reads again and takes the winner's certificates. It then writes the serving
certificate, its key and the CA bundle into the local certificate directory (one rename, see
``certificate_files``), which the webhook server re-reads. Bad data in the store is logged and
replaced, never a crash; a store that cannot be read (the API server away, no Secret) is logged and
tried again at the next check while the server keeps serving what it has.

Switching to a next CA waits until both webhook configurations carry it (``published``), so the API
server trusts the new serving certificate before any replica serves it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from flink_tm_memory.cluster.errors import ApiError
from flink_tm_memory.runtime.certificate_content import Content, carry_out, decode, encode, parse
from flink_tm_memory.runtime.certificate_files import write_atomically
from flink_tm_memory.runtime.certificate_schedule import Validity, plan
from flink_tm_memory.runtime.certificate_store import (
    CertificateStore,
    MemoryStore,
    StoreConflictError,
    StoreMissingError,
)
from flink_tm_memory.runtime.certificates import CA_FILE, CERT_FILE, KEY_FILE, ServingCertificates
from flink_tm_memory.runtime.self_signed import load_certificate

logger = logging.getLogger(__name__)

Published = Callable[[bytes], Awaitable[bool]]
ATTEMPTS = 5


def utc_now() -> datetime:
    return datetime.now(UTC)


class CertificateKeeper:
    """The shared certificates of one replica: ``sync`` once, then ``keep`` them."""

    def __init__(
        self,
        store: CertificateStore,
        *,
        hosts: Sequence[str],
        validity: Validity,
        directory: Path,
        published: Published | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not hosts:
            raise ValueError("a serving certificate needs at least one host name or IP address")
        self._store = store
        self._hosts = tuple(hosts)
        self._validity = validity
        self._directory = directory
        self.published = published
        """Whether both webhook configurations carry a bundle (``None``: none are kept, always true)."""
        self._clock = clock
        self._installed: tuple[bytes, bytes, bytes] | None = None
        self.expiries: dict[str, float] = {}
        """Unix times the served certificate (``serving``) and its signing CA (``ca``) expire."""
        self._reported: tuple[str, ...] = ()
        self.certificates = ServingCertificates(
            directory / CERT_FILE, directory / KEY_FILE, directory / CA_FILE
        )
        """The files the webhook server serves (they exist once ``sync`` returned)."""

    async def sync(self) -> Content:
        """Brings the store up to date (if due) and the local files to what it holds; raises ``ApiError``,
        ``StoreMissingError`` or ``OSError`` when it cannot."""
        for _ in range(ATTEMPTS):
            raw, version = await self._store.read()
            decoded, problems = decode(raw)
            parsed = parse(decoded, problems)
            self._report(parsed.problems)
            published = True if self.published is None else await self.published(parsed.content.bundle())
            now = self._clock()
            decision = plan(
                parsed.facts, hosts=self._hosts, validity=self._validity, now=now, published=published
            )
            content = parsed.content
            if decision.changes or parsed.problems:
                content = carry_out(content, decision, hosts=self._hosts, validity=self._validity, now=now)
                try:
                    await self._store.write(encode(content), version)
                except StoreConflictError:
                    logger.debug(
                        f"Another replica wrote the webhook certificates first store={self._store.description}"
                    )
                    continue
                if decision.changes:
                    reasons = "; ".join(decision.reasons)
                    # In memory (development) every start makes a CA: routine, not news.
                    level = logging.DEBUG if isinstance(self._store, MemoryStore) else logging.INFO
                    logger.log(
                        level,
                        f"Renewed the webhook certificates store={self._store.description} "
                        f"ca={decision.ca.value} serving={decision.issue_serving} reasons={reasons!r}",
                    )
            self._install(content)
            return content
        raise ApiError(
            f"the {self._store.description} kept changing: {ATTEMPTS} writes in a row conflicted",
            transient=True,
        )

    async def start(self, retry_delay: float) -> None:
        """Syncs until it succeeds once (the server cannot start without certificates), logging each failure."""
        while True:
            try:
                await self.sync()
            except (ApiError, StoreMissingError, OSError) as error:
                logger.warning(f"Failed to get the webhook certificates, retrying error={str(error)!r}")
                await asyncio.sleep(retry_delay)
            else:
                return

    async def check(self) -> bool:
        """One sync in the background: ``False`` (logged) when it failed; the files served stay as they were."""
        try:
            await self.sync()
        except (ApiError, StoreMissingError, OSError) as error:
            # Retried (the configuration keeper's next round); only what a retry cannot mend is an ERROR.
            transient = isinstance(error, ApiError) and error.transient
            logger.log(
                logging.WARNING if transient else logging.ERROR,
                f"Failed to check the webhook certificates, retrying error={str(error)!r}",
            )
            return False
        except Exception:  # a fault of ours must not end the checks: the next one may get past it
            logger.exception("Failed to check the webhook certificates")
            return False
        return True

    def _install(self, content: Content) -> None:
        serving = content.serving
        assert serving is not None  # the plan always issues one when there is none
        wanted = (serving.certificate, serving.key, content.bundle())
        if wanted == self._installed:
            return
        write_atomically(self._directory, certificate=wanted[0], key=wanted[1], bundle=wanted[2])
        self._installed = wanted
        assert content.signing is not None
        self.expiries = {
            "serving": load_certificate(
                serving.certificate, "the serving certificate"
            ).not_valid_after_utc.timestamp(),
            "ca": load_certificate(content.signing.certificate, "the CA").not_valid_after_utc.timestamp(),
        }

    def _report(self, problems: tuple[str, ...]) -> None:
        if problems and problems != self._reported:
            logger.warning(
                f"Unusable webhook certificate data, replacing it store={self._store.description} "
                f"problems={'; '.join(problems)!r}"
            )
        self._reported = problems
