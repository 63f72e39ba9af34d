"""The kopf registrations: which events reach which handler.

Registered into a registry built per operator run (not kopf's global one), with the options of that
run, so tests and the command line build their operators the same way.

- FlinkTaskManagerMemory created, updated (spec only), resumed after a restart: reconcile.
- FlinkTaskManagerMemory deleted: forget it, on the watch's DELETED event (a deletion handler would
  make kopf add a finalizer, and the operator has nothing to do before a deletion: the ConfigMap goes
  with the garbage collector, the workloads keep their resources). No timer either (kopf would add a
  finalizer for it, and keep every resource's body): the drift checks are one operator-wide loop
  (``control.drift``), started beside kopf.
- The operator's ConfigMaps (by label) changed or deleted: repair at once.
- With the webhook enabled: FlinkTaskManagerMemory CREATE and UPDATE are validated (the verdict
  of ``render.admission``, then the requester's own rights on the targets: ``control.authorization``),
  as kopf's validating webhook ``/validate-memory``; Pods labelled
  ``flinkmemory.io/profile`` are mutated on CREATE (``render.pod_mutation``), as kopf's mutating
  webhook ``/mutate-pod``, which fails open (``failurePolicy: Ignore``) and never denies; an index
  of FlinkTaskManagerMemories (``memory_by_name``) lets it answer without asking the API server.
- Login: kopf uses the credentials of the operator's own client, so both talk to the same server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kopf

from flink_tm_memory.api.v1alpha1 import GROUP, PLURAL, VERSION
from flink_tm_memory.cluster.client import Credentials
from flink_tm_memory.control.authorization import Authorizer
from flink_tm_memory.control.mutation import MEMORY_INDEX, MUTATE_ID, PodMutator, index_memory
from flink_tm_memory.control.reconcile import Reconciler
from flink_tm_memory.control.repair import ConfigMapRepairer
from flink_tm_memory.handlers.admission import VALIDATE_ID, memory_validator
from flink_tm_memory.render.metadata import MANAGED_BY_LABEL, OPERATOR_NAME
from flink_tm_memory.render.pod_mutation import PROFILE_LABEL
from flink_tm_memory.runtime.options import OperatorOptions

MEMORY = (GROUP, VERSION, PLURAL)
PODS = ("", "v1", "pods")


def register_handlers(
    registry: kopf.OperatorRegistry,
    *,
    reconciler: Reconciler,
    repairer: ConfigMapRepairer,
    mutator: PodMutator,
    credentials: Callable[[], Credentials],
    options: OperatorOptions,
    authorizer: Authorizer,
) -> None:
    """Registers every handler of the operator into ``registry``."""
    kopf.on.login(registry=registry)(_login(credentials))
    kopf.on.resume(*MEMORY, registry=registry, id="reconcile-resumed")(reconciler.on_changed)
    kopf.on.create(*MEMORY, registry=registry, id="reconcile-created")(reconciler.on_changed)
    kopf.on.update(*MEMORY, registry=registry, id="reconcile-updated", field="spec")(reconciler.on_changed)
    kopf.on.event(*MEMORY, registry=registry, id="forget-deleted")(reconciler.on_event)
    kopf.on.event(
        "",
        "v1",
        "configmaps",
        registry=registry,
        id="repair-config-map",
        labels={MANAGED_BY_LABEL: OPERATOR_NAME},
    )(repairer.on_event)
    if options.webhook is not None:  # kopf refuses to start with admission handlers and no server
        kopf.on.validate(
            *MEMORY, registry=registry, id=VALIDATE_ID, operations=["CREATE", "UPDATE"], side_effects=False
        )(memory_validator(authorizer))
        kopf.index(*MEMORY, registry=registry, id=MEMORY_INDEX)(index_memory)
        kopf.on.mutate(
            *PODS,
            registry=registry,
            id=MUTATE_ID,
            operations=["CREATE"],
            labels={PROFILE_LABEL: kopf.PRESENT},
            side_effects=False,
            ignore_failures=True,
        )(mutator.on_pod_create)


def _login(credentials: Callable[[], Credentials]) -> Callable[..., kopf.ConnectionInfo]:
    def login(**_: Any) -> kopf.ConnectionInfo:
        found = credentials()
        return kopf.ConnectionInfo(
            server=found.server,
            ca_path=found.ca_path,
            insecure=found.insecure,
            scheme=found.scheme,
            token=found.token,
            certificate_path=found.certificate_path,
            private_key_path=found.private_key_path,
            username=found.username,
            password=found.password,
        )

    return login
