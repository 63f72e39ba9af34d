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
- Deployments, StatefulSets, FlinkDeployments that some resource targets (a ``when`` filter on the
  names the reconciler recorded), created: sized at once (``control.new_workloads``), not at the next
  drift check.
- No admission handlers: the webhooks are served by every replica, without kopf, from a process of
  their own (``runtime.admission``, composed in ``service.admission`` and ``service.admission_child``).
- Login: kopf uses the credentials of the operator's own client, so both talk to the same server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kopf

from flink_tm_memory.api.v1alpha1 import GROUP, PLURAL, VERSION
from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.cluster.client import Credentials
from flink_tm_memory.control.new_workloads import NewWorkloads
from flink_tm_memory.control.reconcile import Reconciler
from flink_tm_memory.control.repair import ConfigMapRepairer
from flink_tm_memory.render.metadata import MANAGED_BY_LABEL, OPERATOR_NAME
from flink_tm_memory.runtime.options import OperatorOptions

MEMORY = (GROUP, VERSION, PLURAL)
WORKLOADS = {kind: (kind.spec.group, kind.spec.version, kind.spec.plural) for kind in WorkloadKind}
"""The workload kinds' API resources (group, version, plural), for kopf's watches."""
OPTIONAL_GROUPS = (WorkloadKind.FLINK_DEPLOYMENT.spec.group,)
"""API groups a cluster may lack (no Flink Kubernetes Operator): kopf then watches nothing of them."""


def register_handlers(
    registry: kopf.OperatorRegistry,
    *,
    reconciler: Reconciler,
    repairer: ConfigMapRepairer,
    new_workloads: NewWorkloads,
    credentials: Callable[[], Credentials],
    options: OperatorOptions,
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
    for kind, resource in WORKLOADS.items() if options.workload_watch else ():
        kopf.on.event(
            *resource, registry=registry, id=f"size-new-{kind.value.lower()}", when=new_workloads.wanted(kind)
        )(new_workloads.on_event(kind))


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
