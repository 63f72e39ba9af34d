"""A real Flink TaskManager, started from the operator's ConfigMap, reports the operator's status.

For each Flink release and each memory layout: the real operator (against the emulated API server, as
in the integration tests) derives a FlinkTaskManagerMemory and writes its ConfigMap; the config file
of that ConfigMap goes into the conf directory of a real Flink distribution (from PyPI, see
``tests/e2e/flink/distribution.py``), whose own ``bin/jobmanager.sh`` and ``bin/taskmanager.sh`` start
a standalone cluster on loopback (``tests/e2e/flink/cluster.py``). Then, byte for byte:

* the REST API's ``/taskmanagers/<id>`` ``memoryConfiguration`` equals ``status.breakdown``;
* the TaskManager JVM's ``-Xmx``, ``-Xms``, ``-XX:MaxDirectMemorySize`` and ``-XX:MaxMetaspaceSize``,
  which Flink's ``BashJavaUtils`` computed from the file, equal ``status.jvmParameters``;
* the ``-D`` options that script passed to the TaskManager equal ``status.dynamicConfigs``;
* the TaskManager has ``status.numSlots`` slots.

Releases: 2.2 (``config.yaml``), 1.20 (1.x, still ``config.yaml``) and 1.18 (``flink-conf.yaml``, Flink's
line-by-line format). Every process a test starts is stopped before it ends, and checked gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e.flink.cluster import JVM_MEMORY_FLAGS, FlinkCluster, TaskManagerView, flink_processes
from tests.e2e.flink.distribution import FlinkDistribution, flink_distribution
from tests.integration import conftest as integration
from tests.integration.conftest import StartOperator
from tests.integration.kubectl import CONFIG_MAPS, MEMORIES, Kubectl, ready

# The integration tests' fixtures: the emulated API server, its client, and the operator's launcher.
emulator = integration.emulator
kubectl = integration.kubectl
start_operator = integration.start_operator

VERSIONS = ("2.2.1", "1.20.5", "1.18.1")
"""Flink releases on PyPI: a 2.x, the last 1.x, and a 1.x from before config.yaml."""
READY_TIMEOUT = 10.0
CONFIG_FILES = ("config.yaml", "flink-conf.yaml")
REST_NAMES = {
    "frameworkHeap": "frameworkHeap",
    "taskHeap": "taskHeap",
    "frameworkOffHeap": "frameworkOffHeap",
    "taskOffHeap": "taskOffHeap",
    "networkMemory": "network",
    "managedMemory": "managed",
    "jvmMetaspace": "jvmMetaspace",
    "jvmOverhead": "jvmOverhead",
    "totalFlinkMemory": "totalFlink",
    "totalProcessMemory": "totalProcess",
}
"""``memoryConfiguration`` field of Flink's REST API -> ``status.breakdown`` component."""


@dataclass(frozen=True)
class Layout:
    """A FlinkTaskManagerMemory spec, without its version."""

    name: str
    flink_configuration: dict[str, Any]
    consumers: dict[str, Any] = field(default_factory=dict)

    def resource(self, flink_version: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"flinkVersion": flink_version, "flinkConfiguration": self.flink_configuration}
        if self.consumers:
            spec["consumers"] = self.consumers
        return {
            "apiVersion": "flinkmemory.io/v1alpha1",
            "kind": "FlinkTaskManagerMemory",
            "metadata": {"name": self.name},
            "spec": spec,
        }


LAYOUTS = [
    # Flink's shipped config file: a spec cannot be emptier (without a size Flink refuses to start).
    Layout(
        "default",
        {"taskmanager.memory.process.size": "1728m", "taskmanager.numberOfTaskSlots": 1},
    ),
    Layout(
        "process-size",
        {"taskmanager.memory.process.size": "2g", "taskmanager.numberOfTaskSlots": 2},
    ),
    Layout(
        "heap-managed",
        {
            "taskmanager.memory.task.heap.size": "768m",
            "taskmanager.memory.managed.size": "512m",
            "taskmanager.numberOfTaskSlots": 2,
        },
    ),
    Layout(
        "rocksdb-weights",
        {
            "taskmanager.memory.process.size": "2400m",
            "taskmanager.memory.managed.fraction": 0.5,
            "taskmanager.memory.managed.consumer-weights": "STATE_BACKEND:70,PYTHON:30",
            "taskmanager.numberOfTaskSlots": 2,
            "state.backend.type": "rocksdb",
        },
        {"stateBackend": "rocksdb", "python": True},
    ),
]


@dataclass(frozen=True)
class OperatorOutput:
    """The config file of the ConfigMap the operator wrote, and the status it reported."""

    file_name: str
    text: str
    status: dict[str, Any]


@pytest.fixture(scope="module", params=VERSIONS)
def flink(request: pytest.FixtureRequest) -> FlinkDistribution:
    """A Flink distribution, downloaded into .tools/flink/ on first use."""
    version: str = request.param
    return flink_distribution(version)


@pytest.fixture(autouse=True)
def no_flink_process_survives(flink: FlinkDistribution) -> Iterator[None]:
    """No process of the Flink home may run before or after a test."""
    assert flink_processes(flink.home) == {}, "a Flink process of another run is still running"
    yield
    assert flink_processes(flink.home) == {}


@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.name for layout in LAYOUTS])
async def test_a_real_task_manager_reports_the_status_of_its_config_file(
    flink: FlinkDistribution, layout: Layout, start_operator: StartOperator, kubectl: Kubectl
) -> None:
    await start_operator()
    output = await _operator_output(kubectl, layout.resource(flink.minor_version))
    assert output.file_name == ("config.yaml" if flink.release >= (1, 19) else "flink-conf.yaml")

    task_manager = await asyncio.to_thread(_run_task_manager, flink, output)

    breakdown = output.status["breakdown"]
    expected_memory = {rest: breakdown[component] for rest, component in REST_NAMES.items()}
    assert task_manager.memory_configuration == expected_memory
    expected_flags = _flags(output.status["jvmParameters"])
    assert all(len(values) == 1 for values in expected_flags.values()), expected_flags
    assert task_manager.jvm_memory_flags == expected_flags
    assert _dynamic_configs(task_manager) == output.status["dynamicConfigs"]
    assert task_manager.rest["slotsNumber"] == output.status["numSlots"]


async def _operator_output(kubectl: Kubectl, resource: dict[str, Any]) -> OperatorOutput:
    name = resource["metadata"]["name"]
    await kubectl.create(MEMORIES, resource)
    status = await ready(kubectl, name, timeout=READY_TIMEOUT)
    config_map = kubectl.get(CONFIG_MAPS, status["applied"]["configMap"]["name"])
    assert config_map is not None
    [file_name] = [key for key in CONFIG_FILES if key in config_map["data"]]
    return OperatorOutput(file_name=file_name, text=config_map["data"][file_name], status=status)


def _run_task_manager(flink: FlinkDistribution, output: OperatorOutput) -> TaskManagerView:
    """Starts a cluster with the operator's config file, reads its TaskManager, stops it."""
    with FlinkCluster(flink, output.file_name, output.text) as cluster:
        return cluster.task_manager()


def _flags(jvm_parameters: str) -> dict[str, list[str]]:
    """``-Xmx1 -Xms1 ...`` as ``TaskManagerView.jvm_memory_flags`` reads a command line."""
    options = jvm_parameters.split()
    return {
        prefix: [option.removeprefix(prefix) for option in options if option.startswith(prefix)]
        for prefix in JVM_MEMORY_FLAGS
    }


def _dynamic_configs(task_manager: TaskManagerView) -> str:
    """The TaskManager's ``-D`` arguments, written as Flink's scripts print them."""
    return " ".join(f"-D {key}={value}" for key, value in task_manager.dynamic_options)
