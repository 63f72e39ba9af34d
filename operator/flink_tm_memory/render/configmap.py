"""The ConfigMap of a FlinkTaskManagerMemory: the Flink configuration file and the JVM parameters.

The operator owns a few data keys of the ConfigMap, not the ConfigMap: the configuration file for
the Flink version (``config.yaml`` from 1.19, ``flink-conf.yaml`` before), ``jvm-parameters`` (the
``-Xmx``/``-Xms``/``-XX:`` flags) and ``dynamic-configs`` (Flink's ``-D`` string). Other keys, a
``log4j-console.properties`` for instance, are left alone, so the ConfigMap a TaskManager already
mounts can be the target. An owned key of the other file name is removed when the version moves
across 1.19.

A ConfigMap the operator creates is owned by the custom resource (garbage-collected with it) and
labelled for the operator's watch. A write is planned against the ConfigMap read: nothing when it
already holds the data, otherwise a JSON merge patch of only the differing keys, carrying the
``resourceVersion`` it was computed from (a concurrent edit makes it fail with 409 and it is
re-planned, never blindly overwritten). A ConfigMap that exists is written only if it is the
resource's: created by the operator for it, or opted in (``render.claims``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flink_tm_memory.api.v1alpha1 import CONFIG_MAP_SUFFIX, FlinkTaskManagerMemorySpec
from flink_tm_memory.memory.configuration import ConfigValue
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.versions import FlinkVersion
from flink_tm_memory.render.claims import claim_denial
from flink_tm_memory.render.config_file import render_config_file
from flink_tm_memory.render.metadata import MemoryRef, config_map_labels
from flink_tm_memory.render.writes import MERGE_PATCH, Create, Decision, Patch, Unchanged

JVM_PARAMETERS_KEY = "jvm-parameters"
DYNAMIC_CONFIGS_KEY = "dynamic-configs"
OWNED_KEYS = ("config.yaml", "flink-conf.yaml", JVM_PARAMETERS_KEY, DYNAMIC_CONFIGS_KEY)
"""Every data key the operator may write; the others belong to whoever else writes the ConfigMap."""


@dataclass(frozen=True, slots=True)
class DesiredConfigMap:
    """What the ConfigMap should hold for one custom resource."""

    name: str
    namespace: str
    data: dict[str, str]
    labels: dict[str, str]
    memory: MemoryRef
    """The resource it is written for: the only one that may write it (see ``render.claims``)."""
    owner_references: list[dict[str, Any]] = field(default_factory=list)

    @property
    def hash(self) -> str:
        """A short digest of the data, for the status to tell whether the content changed."""
        canonical = json.dumps(self.data, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(canonical).hexdigest()[:16]


def render_config_map(
    memory: MemoryRef,
    name: str,
    version: FlinkVersion,
    configuration: Mapping[str, ConfigValue],
    layout: MemoryLayout,
) -> DesiredConfigMap:
    """The ConfigMap ``name`` for a resource whose spec derives ``layout`` from ``configuration``."""
    config_file = render_config_file(
        version,
        configuration,
        layout.pinned_options(),
        f"FlinkTaskManagerMemory {memory.namespace}/{memory.name}",
    )
    return DesiredConfigMap(
        name=name,
        namespace=memory.namespace,
        data={
            version.config_file_name: config_file,
            JVM_PARAMETERS_KEY: layout.jvm_parameters(),
            DYNAMIC_CONFIGS_KEY: layout.dynamic_configs(),
        },
        labels=config_map_labels(memory.name),
        memory=memory,
        owner_references=[memory.owner_reference()],
    )


def config_map_name(spec: FlinkTaskManagerMemorySpec, memory_name: str) -> str:
    """The ConfigMap a spec writes: the one it names, else ``<name>-flink-tm-memory``."""
    return spec.targets.config_map.name or f"{memory_name}{CONFIG_MAP_SUFFIX}"


def plan_config_map_write(current: Mapping[str, Any] | None, desired: DesiredConfigMap) -> Decision:
    """Create the ConfigMap, patch the keys that differ, leave it as it is, or refuse: not the resource's."""
    if current is None:
        return Create(_new_config_map(desired))
    denial = claim_denial(current, desired.memory, "ConfigMap")
    if denial is not None:
        return denial
    metadata = current.get("metadata") or {}
    data = current.get("data") or {}
    labels = metadata.get("labels") or {}
    data_patch: dict[str, str | None] = {
        key: value for key, value in desired.data.items() if data.get(key) != value
    }
    data_patch.update({key: None for key in OWNED_KEYS if key in data and key not in desired.data})
    label_patch = {key: value for key, value in desired.labels.items() if labels.get(key) != value}
    if not data_patch and not label_patch:
        return Unchanged()
    body: dict[str, Any] = {"metadata": {"resourceVersion": metadata.get("resourceVersion")}}
    if label_patch:
        body["metadata"]["labels"] = label_patch
    if data_patch:
        body["data"] = data_patch
    return Patch(body, MERGE_PATCH)


def _new_config_map(desired: DesiredConfigMap) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": desired.name,
            "namespace": desired.namespace,
            "labels": dict(desired.labels),
            "ownerReferences": list(desired.owner_references),
        },
        "data": dict(desired.data),
    }
