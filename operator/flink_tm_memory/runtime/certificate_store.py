"""Where the shared certificates live: one named Secret (every replica), or memory (development).

The Secret is created by the chart, empty, in the operator's namespace; the operator only reads it
and patches it, by name (RBAC ``get`` and ``patch`` with ``resourceNames``, never ``create``, never
another Secret). Each patch is a JSON merge patch carrying the ``resourceVersion`` it was computed
from, so when two replicas fill or renew it at once the API server takes the first and answers the
second 409: the loser reads again and finds the winner's certificates, which it then uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.errors import ObjectNotFoundError, WriteConflictError
from flink_tm_memory.cluster.objects import secret_api
from flink_tm_memory.render.writes import MERGE_PATCH


class StoreConflictError(Exception):
    """Someone else wrote the store since it was read."""


class StoreMissingError(Exception):
    """The Secret does not exist (the operator never creates it); says how to fix that."""


class CertificateStore(Protocol):
    """Read the raw data and its version; write data computed from that version."""

    @property
    def description(self) -> str: ...

    async def read(self) -> tuple[Mapping[str, object] | None, str | None]: ...

    async def write(self, data: Mapping[str, str | None], version: str | None) -> None: ...


@dataclass(frozen=True, slots=True)
class SecretStore:
    """The named Secret; ``data`` values are base64, as the API server stores them."""

    client: ClusterClient
    namespace: str
    name: str

    @property
    def description(self) -> str:
        return f"Secret {self.namespace}/{self.name}"

    async def read(self) -> tuple[Mapping[str, object] | None, str | None]:
        secret = await secret_api(self.client).read(self.namespace, self.name)
        if secret is None:
            raise StoreMissingError(self._missing())
        data = secret.get("data")
        version = (secret.get("metadata") or {}).get("resourceVersion")
        return (data if isinstance(data, Mapping) else None), version

    async def write(self, data: Mapping[str, str | None], version: str | None) -> None:
        body = {"metadata": {"resourceVersion": version}, "data": dict(data)}
        try:
            await secret_api(self.client).patch(self.namespace, self.name, body, MERGE_PATCH)
        except WriteConflictError:
            raise StoreConflictError(self.description) from None
        except ObjectNotFoundError:
            raise StoreMissingError(self._missing()) from None

    def _missing(self) -> str:
        return (
            f"the {self.description} does not exist: the chart creates it (empty) and the operator may "
            f"only fill it; create it with 'kubectl create secret generic {self.name} -n {self.namespace}'"
        )


@dataclass(slots=True)
class MemoryStore:
    """Development without a Secret: certificates live as long as the process, renewed all the same."""

    data: dict[str, str] = field(default_factory=dict)
    version: int = 0

    @property
    def description(self) -> str:
        return "memory"

    async def read(self) -> tuple[Mapping[str, object] | None, str | None]:
        return dict(self.data), str(self.version)

    async def write(self, data: Mapping[str, str | None], version: str | None) -> None:
        if version != str(self.version):
            raise StoreConflictError(self.description)
        self.data = {key: value for key, value in {**self.data, **data}.items() if value is not None}
        self.version += 1
