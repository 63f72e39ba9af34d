"""The custom resource contract: ``flinkmemory.io/v1alpha1`` models, the generated CRD, and the spec's meaning.

Layer L1: above the pure memory engine, below rendering. ``v1alpha1`` holds the pydantic models (the
source of truth), ``crd`` turns them into the structural CustomResourceDefinition, ``resolve`` says what a
spec means to the engine, and ``quantity`` / ``interpretation`` read sizes the Kubernetes and the Flink
way. Everything here is pure except ``crd``'s command, which writes the manifest.
"""

from flink_tm_memory.api.interpretation import (
    Convention,
    SizeInterpretation,
    interpret_flink_memory,
    interpret_kubernetes_memory,
)
from flink_tm_memory.api.quantity import (
    Quantity,
    QuantityError,
    format_cpu_quantity,
    format_memory_quantity,
    parse_cpu_quantity,
    parse_memory_quantity,
    parse_quantity,
)
from flink_tm_memory.api.resolve import ResolvedSpec, SpecProblem, resolve_spec
from flink_tm_memory.api.v1alpha1 import (
    API_VERSION,
    KIND,
    FlinkTaskManagerMemory,
    FlinkTaskManagerMemorySpec,
    FlinkTaskManagerMemoryStatus,
)

__all__ = [
    "API_VERSION",
    "KIND",
    "Convention",
    "FlinkTaskManagerMemory",
    "FlinkTaskManagerMemorySpec",
    "FlinkTaskManagerMemoryStatus",
    "Quantity",
    "QuantityError",
    "ResolvedSpec",
    "SizeInterpretation",
    "SpecProblem",
    "format_cpu_quantity",
    "format_memory_quantity",
    "interpret_flink_memory",
    "interpret_kubernetes_memory",
    "parse_cpu_quantity",
    "parse_memory_quantity",
    "parse_quantity",
    "resolve_spec",
]
