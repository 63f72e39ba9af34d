"""Whether the API server serves a kind at all: the difference between "no such object" and "no such API".

The API server answers 404 both for an object that does not exist and for a path under a group or
version it does not serve (a FlinkDeployment target on a cluster without the Flink Kubernetes
Operator's CRDs). The first is worth waiting for (the workload may be created later); the second
needs someone to install a CRD, and the status must say so. Discovery
(``GET /apis/<group>/<version>``, readable by every authenticated user through the
``system:discovery`` role, so no RBAC rule of ours) tells them apart.
"""

from __future__ import annotations

from flink_tm_memory.api.workloads import WorkloadKindSpec
from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.errors import ObjectNotFoundError


async def kind_is_served(client: ClusterClient, kind: WorkloadKindSpec) -> bool:
    """Whether ``kind``'s group-version is served and lists its plural; raises ``ApiError`` if unsure."""
    try:
        listed = await client.get(kind.api_path)
    except ObjectNotFoundError:
        return False
    resources = listed.get("resources")
    if not isinstance(resources, list):
        return False
    return any(isinstance(resource, dict) and resource.get("name") == kind.plural for resource in resources)
