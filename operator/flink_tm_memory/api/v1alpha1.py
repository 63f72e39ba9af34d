"""``flinkmemory.io/v1alpha1`` ``FlinkTaskManagerMemory``: the custom resource's spec and status as models.

These models are the contract's single source of truth. The CRD in ``manifests/crd/`` is generated from
them (``flink_tm_memory.api.crd``), the handlers read the spec through them and write the status through
them, and every field's description becomes ``kubectl explain``. Python names are snake_case; the wire
names are camelCase aliases, and ``to_manifest`` / ``model_validate`` speak the wire form.

Defaults are behaviour, not schema: an unset field stays unset (``None``) in the object the API server
stores, and ``flink_tm_memory.api.resolve`` decides what it means, so the status can tell a configured
value from a defaulted one. Spec models reject unknown fields (a typo must not be silently ignored);
status models ignore them (an older operator must still read a newer status).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from flink_tm_memory.api.durations import parse_duration, parse_percent
from flink_tm_memory.api.interpretation import Convention
from flink_tm_memory.api.quantity import (
    MAX_QUANTITY_LENGTH,
    QUANTITY_PATTERN,
    parse_cpu_quantity,
    parse_memory_quantity,
    parse_quantity,
)
from flink_tm_memory.api.workloads import (
    DEFAULT_CONTAINERS,
    WorkloadKind,
    kinds_description,
    kinds_without_containers,
)
from flink_tm_memory.memory import explain
from flink_tm_memory.memory.configuration import ConfigValue
from flink_tm_memory.memory.sizes import format_short
from flink_tm_memory.memory.versions import DEFAULT_VERSION, SUPPORTED_VERSIONS, parse_flink_version

GROUP = "flinkmemory.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "FlinkTaskManagerMemory"
LIST_KIND = f"{KIND}List"
PLURAL = "flinktaskmanagermemories"
SINGULAR = "flinktaskmanagermemory"
SHORT_NAMES = ("ftmm",)
CATEGORIES = ("flink",)

CONFIG_MAP_SUFFIX = "-flink-tm-memory"
_NO_CONTAINERS = kinds_without_containers()
_CONTAINER_RULE = (
    " && ".join(f"self.kind != '{kind}'" for kind in _NO_CONTAINERS) or "true"
    if len(_NO_CONTAINERS) <= 1
    else "(" + " && ".join(f"self.kind != '{kind}'" for kind in _NO_CONTAINERS) + ")"
)
_CONTAINER_MESSAGE = (
    f"container does not apply to a {' or '.join(_NO_CONTAINERS)}, whose TaskManager resources are not "
    "in a pod template"
)

_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_CONDITION_TYPE = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)
_CONDITION_REASON = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
_VERSION_TEXT = r"^v?[0-9]+\.[0-9]+(\.[0-9]+)?([-.][0-9A-Za-z.-]+)?$"


# ---------------------------------------------------------------------------------------- field types


def _check_flink_version(text: str) -> str:
    parse_flink_version(text)  # UnsupportedVersionError is a ValueError: pydantic reports it on the field
    return text


def _check_memory_quantity(value: int | str) -> int | str:
    parse_memory_quantity(value)
    return value


def _check_cpu_quantity(value: int | str) -> int | str:
    parse_cpu_quantity(value)
    return value


MAX_OPTIONS = 1024
"""At most this many Flink options: Flink has fewer than a thousand, a TaskManager uses a few dozen."""
MAX_VALUE_LENGTH = 16384
"""Characters of one Flink option value; the longest real ones (JVM options, class paths) take a few KiB."""
MAX_WORKLOADS = 64


def _config_value(value: object) -> ConfigValue:
    if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
        raise ValueError(
            f"a Flink option value may have at most {MAX_VALUE_LENGTH} characters, not {len(value)}"
        )
    if isinstance(value, str | bool | int | float):
        return value
    raise ValueError(
        f"a Flink option value must be a string, number or boolean, not {type(value).__name__}: "
        "write maps and lists in Flink's one-line form, e.g. 'OPERATOR:70,STATE_BACKEND:70'"
    )


# The one anyOf a structural schema allows: integer-or-string, as Kubernetes' own Quantity fields.
_QUANTITY_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "integer"}, {"type": "string"}],
    "x-kubernetes-int-or-string": True,
    "pattern": QUANTITY_PATTERN,
    "maxLength": MAX_QUANTITY_LENGTH,
}


def _utc_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


FlinkVersionText = Annotated[
    StrictStr, Field(pattern=_VERSION_TEXT, max_length=64), AfterValidator(_check_flink_version)
]
MemoryQuantity = Annotated[
    StrictInt | StrictStr,
    AfterValidator(_check_memory_quantity),
    WithJsonSchema(_QUANTITY_SCHEMA),
]
CpuQuantity = Annotated[
    StrictInt | StrictStr,
    AfterValidator(_check_cpu_quantity),
    WithJsonSchema(_QUANTITY_SCHEMA),
]
FlinkValue = Annotated[
    ConfigValue,
    PlainValidator(_config_value),
    # Scalars of four types cannot be said structurally (no ``type`` is allowed inside ``anyOf``), so
    # the API server keeps any value and the model, at admission and on reconcile, insists on a scalar.
    # The API server still bounds it: a string's length, and a map or a list may only be empty.
    WithJsonSchema(
        {
            "x-kubernetes-preserve-unknown-fields": True,
            "maxLength": MAX_VALUE_LENGTH,
            "maxProperties": 0,
            "maxItems": 0,
        }
    ),
]
KubeTime = Annotated[
    datetime,
    PlainSerializer(_utc_seconds, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
LimitFactor = Annotated[float, Strict(), Field(ge=1, allow_inf_nan=False)]


def _check_duration(text: str) -> str:
    parse_duration(text)
    return text


def _check_percent(text: str) -> str:
    parse_percent(text)
    return text


Duration = Annotated[StrictStr, Field(max_length=32), AfterValidator(_check_duration)]
Percent = Annotated[StrictStr, Field(max_length=16), AfterValidator(_check_percent)]


class _Spec(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_manifest(self) -> dict[str, Any]:
        """The wire form: camelCase keys, unset fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class _Status(_Spec):
    model_config = ConfigDict(extra="ignore")


# ---------------------------------------------------------------------------------------- spec


SERVER_DEFAULT = "x-flinkmemory-server-default"
"""A field's default in the CRD, which the API server writes into stored objects (``api.crd``).

Only for fields whose unset value means one fixed thing for good (``updateMode``: Apply), so that
``kubectl get -o yaml`` shows it; never for a field whose unset value depends on other fields or on
the operator's release (``flinkVersion``, the limit factors, the state backend): stored, such a
default would pin today's answer into every object.
"""


class UpdateMode(StrEnum):
    APPLY = "Apply"
    OFF = "Off"
    INITIAL = "Initial"
    AUTO = "Auto"

    @property
    def follows_usage(self) -> bool:
        """Whether the layout in effect is the recommendation from usage (Initial, Auto)."""
        return self in (UpdateMode.INITIAL, UpdateMode.AUTO)


class StateBackend(StrEnum):
    """State backends as Flink names them in ``state.backend.type``."""

    HASHMAP = "hashmap"
    ROCKSDB = "rocksdb"
    FORST = "forst"


class Resources(_Spec):
    """The TaskManager container's size, the Kubernetes way."""

    memory: MemoryQuantity | None = Field(
        default=None,
        description=(
            "Total process memory of the TaskManager (Flink's taskmanager.memory.process.size) as a "
            "Kubernetes quantity: 4Gi, 4096Mi or 4294967296. It is the container's memory request. "
            "Binary suffixes (Ki, Mi, Gi, Ti) are powers of 1024; decimal ones (k, M, G, T) powers of "
            "1000, so 4G is 4,000,000,000 bytes; m is thousandths, so 2048m is 2.048 bytes. "
            "status.interpretations says how it was read, in bytes. Unset: the sizes in "
            "flinkConfiguration decide. Setting both this and taskmanager.memory.process.size to "
            "different values is a conflict."
        ),
    )
    cpu: CpuQuantity | None = Field(
        default=None,
        description=(
            "CPU cores of the TaskManager (Flink's taskmanager.cpu.cores) as a Kubernetes quantity: 2 or "
            "1500m. It is the container's CPU request. Unset: taskmanager.cpu.cores from "
            "flinkConfiguration, else the number of task slots, as Flink does."
        ),
    )
    memory_limit_factor: LimitFactor | None = Field(
        default=None,
        description=(
            "Container memory limit divided by the request, at least 1, as Flink's "
            "kubernetes.taskmanager.memory.limit-factor. Unset: that option from flinkConfiguration, "
            "else 1 (limit equals request)."
        ),
    )
    cpu_limit_factor: LimitFactor | None = Field(
        default=None,
        description=(
            "Container CPU limit divided by the request, at least 1, as Flink's "
            "kubernetes.taskmanager.cpu.limit-factor. Unset: that option from flinkConfiguration, else 1."
        ),
    )


class Needs(_Spec):
    """Bytes the job needs of each component, in Flink's units (2g is 2 GiB; a Kubernetes quantity such as
    2Gi is read too). Each is optional."""

    framework_heap: str | None = Field(default=None, max_length=64, description="Framework heap.")
    task_heap: str | None = Field(default=None, max_length=64, description="Task heap: the job's objects.")
    framework_off_heap: str | None = Field(default=None, max_length=64, description="Framework off-heap.")
    task_off_heap: str | None = Field(
        default=None, max_length=64, description="Task off-heap: the job's direct and native memory."
    )
    network: str | None = Field(default=None, max_length=64, description="Network (shuffle) memory.")
    managed: str | None = Field(
        default=None, max_length=64, description="Managed memory: RocksDB state, batch operators, Python."
    )
    jvm_metaspace: str | None = Field(
        default=None, max_length=64, description="JVM metaspace: loaded classes."
    )
    jvm_overhead: str | None = Field(
        default=None,
        max_length=64,
        description="JVM overhead: thread stacks, GC, code cache, native libraries.",
    )

    def given(self) -> dict[str, str]:
        """The needs set, by component name (as the layout names them: ``taskHeap``, ...)."""
        values = self.model_dump(by_alias=True, exclude_none=True)
        return {name: str(value) for name, value in values.items()}


class Sizing(_Spec):
    """What the job needs of TaskManager memory, instead of (or as well as) a size."""

    needs: Needs = Field(
        default_factory=Needs,
        description=(
            "What the job needs of each component. Without a size (spec.resources.memory, "
            "taskmanager.memory.process.size or flink.size, or both task heap and managed memory), the "
            "operator pins the smallest process size, in whole MiB, whose layout meets every need; with "
            "one, the layout must meet them, else it is a conflict whose fix is that size."
        ),
    )


class Consumers(_Spec):
    """What in the job takes managed memory; decides how each slot's managed memory is split."""

    state_backend: StateBackend | None = Field(
        default=None,
        description=(
            "The state backend the job sets in its own code, if it does: hashmap, rocksdb or forst. "
            "Unset: Flink's rule, the backend named by state.backend.type in flinkConfiguration (a name "
            "or a factory class), else Flink's default for the version."
        ),
    )
    state_backend_uses_managed_memory: bool | None = Field(
        default=None,
        description=(
            "Whether the state backend takes a share of managed memory (Flink's STATE_BACKEND "
            "consumer). Unset: true for rocksdb and forst, false for hashmap, which keeps state on the "
            "heap; without stateBackend, decided from flinkConfiguration exactly as Flink decides it."
        ),
    )
    python: bool | None = Field(
        default=None,
        json_schema_extra={SERVER_DEFAULT: False},
        description=(
            "The job runs Python user-defined functions, whose workers take managed memory (Flink's "
            "PYTHON consumer) while python.fn-execution.memory.managed is true, Flink's default. "
            "Unset: false."
        ),
    )
    operators: bool | None = Field(
        default=None,
        json_schema_extra={SERVER_DEFAULT: False},
        description=(
            "The job has operators that take managed memory, such as batch sorts, hash joins and hash "
            "aggregations (Flink's OPERATOR consumer). Unset: false."
        ),
    )


class ConfigMapTarget(_Spec):
    """The ConfigMap that receives the Flink configuration file and the JVM parameters."""

    name: str | None = Field(
        default=None,
        max_length=253,
        pattern=_DNS_SUBDOMAIN,
        description=(
            f"Name of the ConfigMap, in the custom resource's namespace. Unset: <metadata.name>"
            f"{CONFIG_MAP_SUFFIX}."
        ),
    )


class WorkloadTarget(_Spec):
    """A workload whose TaskManager resources the operator sets; every other field is left untouched."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": f"{_CONTAINER_RULE} || !has(self.container)", "message": _CONTAINER_MESSAGE}
            ]
        }
    )

    kind: WorkloadKind = Field(description=kinds_description())
    name: str = Field(
        min_length=1,
        max_length=253,
        pattern=_DNS_SUBDOMAIN,
        description="Name of the workload, in the custom resource's namespace. It may appear later.",
    )
    container: str | None = Field(
        default=None,
        max_length=63,
        pattern=_DNS_LABEL,
        description=(
            "Name of the TaskManager container of a Deployment or StatefulSet. Unset: "
            f"{' or '.join(DEFAULT_CONTAINERS)}, whichever the pod template has, in that order "
            "(else its only container). Not used for a FlinkDeployment."
        ),
    )

    @model_validator(mode="after")
    def _container_only_for_pods(self) -> WorkloadTarget:
        if not self.kind.spec.has_containers and self.container is not None:
            raise ValueError(_CONTAINER_MESSAGE)
        return self


class Targets(_Spec):
    """Where the derived configuration and resources are written (when updateMode is Apply)."""

    config_map: ConfigMapTarget = Field(
        default_factory=ConfigMapTarget,
        description="The ConfigMap that receives the Flink configuration file and the JVM parameters.",
    )
    workloads: list[WorkloadTarget] = Field(
        default_factory=list,
        max_length=MAX_WORKLOADS,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["kind", "name"]},
        description=(
            "Workloads whose TaskManager resources are set: requests from the derived process memory "
            "and CPU, limits from the limit factors. A missing workload is reported in the Applied "
            "condition and picked up when it appears."
        ),
    )

    @model_validator(mode="after")
    def _workloads_unique(self) -> Targets:
        keys = [(workload.kind, workload.name) for workload in self.workloads]
        duplicates = sorted({f"{kind} {name}" for kind, name in keys if keys.count((kind, name)) > 1})
        if duplicates:
            raise ValueError(f"each workload may be listed once: {', '.join(duplicates)}")
        return self


MIN_POLL_SECONDS = 5
"""The shortest poll interval: Flink's own metric fetcher refreshes every 10 s by default."""
MAX_MARGIN = 10
"""At most +1000 %: a larger margin is a typo."""


class JobManagerEndpoint(_Spec):
    """Where the JobManager's REST API answers: a URL, or a Service of the resource's namespace."""

    url: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://[^\s/?#]+(:[0-9]+)?(/[^\s?#]*)?$",
        description=(
            "The REST API's base URL, http or https: http://my-job-rest.flink.svc:8081. Exclusive with "
            "service."
        ),
    )
    service: str | None = Field(
        default=None,
        max_length=63,
        pattern=_DNS_LABEL,
        description=(
            "A Service in the custom resource's namespace in front of the JobManager (Flink's "
            "<cluster-id>-rest). The operator calls http://<service>.<namespace>.svc:<port>."
        ),
    )
    port: int | None = Field(
        default=None, ge=1, le=65535, description="The Service's port. Unset: 8081, Flink's rest.port."
    )

    @model_validator(mode="after")
    def _one_place(self) -> JobManagerEndpoint:
        if (self.url is None) == (self.service is None):
            raise ValueError("set exactly one of url and service")
        if self.url is not None and self.port is not None:
            raise ValueError("port goes with service; a url carries its own port")
        return self


class Recommendations(_Spec):
    """Recommendations from what the TaskManagers use, read from the JobManager's REST API."""

    job_manager: JobManagerEndpoint = Field(description="Where the REST API of the job's JobManager answers.")
    window: Duration | None = Field(
        default=None,
        description="How far back the peaks reach: 24h, 7d. Unset: 24h.",
    )
    min_observation: Duration | None = Field(
        default=None,
        description=(
            "How long usage must have been observed before anything is recommended, at most the window. "
            "Unset: the whole window."
        ),
    )
    poll_interval: Duration | None = Field(
        default=None,
        description=f"How often the metrics are read, at least {MIN_POLL_SECONDS}s. Unset: 1m.",
    )
    margin: Percent | None = Field(
        default=None,
        description="Added to every observed peak: +15%. Unset: 15%.",
    )
    min_process: MemoryQuantity | None = Field(
        default=None,
        description=(
            "Auto and Initial never apply a total process memory below this (a Kubernetes quantity)."
        ),
    )
    max_process: MemoryQuantity | None = Field(
        default=None,
        description=(
            "Auto and Initial never apply a total process memory above this; needs beyond it are "
            "reported, not applied."
        ),
    )
    min_change_interval: Duration | None = Field(
        default=None,
        description=(
            "Auto and Initial change the layout at most once per interval, and never lower a component "
            "within it after an OOM kill. Unset: 1h."
        ),
    )
    change_threshold: Percent | None = Field(
        default=None,
        description=(
            "A recommendation is applied only when it moves the process size by at least this much, or "
            "the layout in effect misses an observed peak plus the margin. Unset: 10%."
        ),
    )

    @model_validator(mode="after")
    def _coherent(self) -> Recommendations:
        window = parse_duration(self.window) if self.window is not None else None
        poll = parse_duration(self.poll_interval) if self.poll_interval is not None else None
        if poll is not None and poll < MIN_POLL_SECONDS:
            raise ValueError(f"pollInterval: {self.poll_interval} is shorter than {MIN_POLL_SECONDS}s")
        if window is not None and window < (poll or 60):
            raise ValueError(f"window: {self.window} is shorter than the poll interval")
        if self.min_observation is not None and parse_duration(self.min_observation) > (window or 86400):
            raise ValueError(f"minObservation: {self.min_observation} is longer than the window")
        if self.margin is not None and parse_percent(self.margin) > MAX_MARGIN:
            raise ValueError(f"margin: {self.margin} is more than {MAX_MARGIN * 100}%")
        if self.change_threshold is not None and parse_percent(self.change_threshold) > 1:
            raise ValueError(f"changeThreshold: {self.change_threshold} is more than 100%")
        if self.min_process is not None and self.max_process is not None:
            low = parse_memory_quantity(self.min_process).rounded_up
            high = parse_memory_quantity(self.max_process).rounded_up
            if low > high:
                raise ValueError(f"minProcess: {self.min_process} is more than maxProcess {self.max_process}")
        return self


OOM_STEP_DEFAULT = 0.25
"""The room an OOMKilled fix adds to the budget that ran out, as a fraction of that budget: +25 %."""
OomStep = Annotated[float, Strict(), Field(gt=0, le=4, allow_inf_nan=False)]


class OomKillsSpec(_Spec):
    """How the operator answers a TaskManager container the kernel killed for memory (OOMKilled)."""

    step: OomStep | None = Field(
        default=None,
        description=(
            "How much room the proposed fix adds to the memory budget that ran out, as a fraction of "
            "that budget: 0.25 is +25 %. More than 0, at most 4. Unset: 0.25."
        ),
    )

    @property
    def resolved_step(self) -> float:
        return self.step if self.step is not None else OOM_STEP_DEFAULT


class FlinkTaskManagerMemorySpec(_Spec):
    """What the user wants: a Flink configuration, a container size, and where to write the results."""

    flink_version: FlinkVersionText | None = Field(
        default=None,
        description=(
            "The Flink release the TaskManagers run, as major.minor (a patch or suffix is accepted and "
            'ignored): it selects Flink\'s defaults and rules. Quote it in YAML ("1.20", not 1.20). '
            f"Supported: {', '.join(version.name for version in SUPPORTED_VERSIONS)}. "
            f"Unset: {DEFAULT_VERSION}."
        ),
    )
    flink_configuration: dict[str, FlinkValue] = Field(
        default_factory=dict,
        max_length=MAX_OPTIONS,
        description=(
            "Flink options as written in Flink's config.yaml, one flat key per option: "
            "taskmanager.memory.process.size: 4g, taskmanager.numberOfTaskSlots: 4, "
            "taskmanager.memory.managed.consumer-weights: OPERATOR:70,STATE_BACKEND:70,PYTHON:30. "
            "Values are strings, numbers or booleans and are read exactly as Flink reads them; sizes use "
            "Flink's units (4g is 4 GiB). Nested maps and lists are refused: write Flink's one-line form. "
            "Options that do not size memory are passed through untouched to the generated "
            f"configuration file. At most {MAX_OPTIONS} options, values of at most {MAX_VALUE_LENGTH} "
            "characters, and the whole spec at most 64 KiB as JSON."
        ),
    )
    resources: Resources = Field(
        default_factory=Resources,
        description="The TaskManager container's size and limit factors, the Kubernetes way.",
    )
    consumers: Consumers = Field(
        default_factory=Consumers,
        description="What in the job takes managed memory, for the split of each slot's managed memory.",
    )
    sizing: Sizing = Field(
        default_factory=Sizing,
        description="What the job needs of each memory component; the operator finds the size that meets it.",
    )
    targets: Targets = Field(
        default_factory=Targets,
        description="The ConfigMap and the workloads the results are written to.",
    )
    oom_kills: OomKillsSpec = Field(
        default_factory=OomKillsSpec,
        description=(
            "How TaskManager containers killed for memory (OOMKilled) are answered: the room the "
            "fix in status.oomKills adds to the budget that ran out."
        ),
    )
    explain: bool | None = Field(
        default=None,
        description=(
            "true: the status also holds explain, for each component whether it was configured, a "
            "default or derived, and by which rule (what `flink-tm-memory derive` prints under Explain). "
            "Unset: false, which keeps `kubectl describe` short."
        ),
    )
    recommendations: Recommendations | None = Field(
        default=None,
        description=(
            "Read what the TaskManagers use from the JobManager's REST API and recommend a layout in "
            "status.recommendation; updateMode Initial and Auto apply it."
        ),
    )
    update_mode: UpdateMode | None = Field(
        default=None,
        json_schema_extra={SERVER_DEFAULT: UpdateMode.APPLY.value},
        description=(
            "Apply: write the ConfigMap and the targets. Off: only derive and report in the status, as "
            "a recommendation. Initial: the recommendation from usage goes to the ConfigMap and to new "
            "TaskManager pods at admission (flinkmemory.io/profile); running pods and the workloads' "
            "templates are left alone. Auto: the recommendation from usage is applied to the ConfigMap "
            "and the targets, within minProcess and maxProcess, at most once per minChangeInterval, only "
            "when material. Initial and Auto need spec.recommendations. Unset: Apply."
        ),
    )

    @model_validator(mode="after")
    def _usage_modes_need_recommendations(self) -> FlinkTaskManagerMemorySpec:
        if self.update_mode is not None and self.update_mode.follows_usage and self.recommendations is None:
            raise ValueError(
                f"spec.recommendations: updateMode {self.update_mode.value} applies recommendations from "
                "usage and needs spec.recommendations.jobManager to read them"
            )
        return self

    @property
    def resolved_update_mode(self) -> UpdateMode:
        return self.update_mode or UpdateMode.APPLY


class ObjectMeta(_Status):
    """The few metadata fields the operator reads; the API server owns the rest."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    namespace: str | None = None
    generation: int | None = None
    uid: str | None = None
    resource_version: str | None = None


# ---------------------------------------------------------------------------------------- status


class ConditionType(StrEnum):
    READY = "Ready"
    CONFIG_VALID = "ConfigValid"
    APPLIED = "Applied"


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(_Status):
    """One aspect of the resource's state, in the shape of Kubernetes' metav1.Condition."""

    type: str = Field(
        max_length=316,
        pattern=_CONDITION_TYPE,
        description=(
            "Ready: the derived layout is in place (or, with updateMode Off, derived). ConfigValid: "
            "Flink accepts the configuration. Applied: the ConfigMap and every target are up to date."
        ),
    )
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(
        min_length=1,
        max_length=1024,
        pattern=_CONDITION_REASON,
        description="Why the condition has its status, as one CamelCase word.",
    )
    message: str = Field(max_length=32768, description="Why the condition has its status, in a sentence.")
    last_transition_time: KubeTime = Field(description="When the status last changed.")
    observed_generation: int | None = Field(
        default=None, ge=0, description="The metadata.generation of the spec the condition describes."
    )


class Breakdown(_Status):
    """Every TaskManager memory component, in bytes, as Flink derives it.

    One integer per component, as Flink's REST API gives a TaskManager's ``memoryConfiguration``;
    ``summary`` has the few of them the printer columns show in Flink's short form.
    """

    framework_heap: int = Field(ge=0, description="Framework heap (taskmanager.memory.framework.heap.size).")
    task_heap: int = Field(ge=0, description="Task heap (taskmanager.memory.task.heap.size).")
    framework_off_heap: int = Field(
        ge=0, description="Framework off-heap (taskmanager.memory.framework.off-heap.size)."
    )
    task_off_heap: int = Field(ge=0, description="Task off-heap (taskmanager.memory.task.off-heap.size).")
    network: int = Field(ge=0, description="Network buffers (taskmanager.memory.network.min/max).")
    managed: int = Field(ge=0, description="Managed memory (taskmanager.memory.managed.size).")
    jvm_metaspace: int = Field(ge=0, description="JVM metaspace (taskmanager.memory.jvm-metaspace.size).")
    jvm_overhead: int = Field(ge=0, description="JVM overhead (taskmanager.memory.jvm-overhead.min/max).")
    total_flink: int = Field(
        ge=0, description="Total Flink memory: every component but metaspace and overhead."
    )
    total_process: int = Field(
        ge=0, description="Total process memory: what the container needs (taskmanager.memory.process.size)."
    )
    jvm_heap: int = Field(ge=0, description="JVM heap, -Xmx and -Xms: framework heap plus task heap.")
    jvm_direct: int = Field(
        ge=0,
        description="JVM direct memory, -XX:MaxDirectMemorySize: framework and task off-heap plus network.",
    )


class LayoutSummary(_Status):
    """The sizes ``kubectl get`` shows, in Flink's short form (``1.688gb``); the bytes are in breakdown."""

    process: str = Field(description="Total process memory (breakdown.totalProcess): 1.688gb.")
    heap: str = Field(description="JVM heap, -Xmx (breakdown.jvmHeap): 512.000mb.")
    managed: str = Field(description="Managed memory (breakdown.managed): 512.000mb.")
    network: str = Field(description="Network memory (breakdown.network): 128.000mb.")

    @classmethod
    def of(cls, breakdown: Breakdown) -> LayoutSummary:
        return cls(
            process=format_short(breakdown.total_process),
            heap=format_short(breakdown.jvm_heap),
            managed=format_short(breakdown.managed),
            network=format_short(breakdown.network),
        )


class ResourceAmounts(_Status):
    """Container memory and CPU, as Kubernetes quantities."""

    memory: str = Field(
        description=(
            "Memory as a Kubernetes quantity, exact to the byte (never rounded, so no separate byte "
            "count is needed): 4Gi, 1728Mi, 1073741825."
        )
    )
    cpu: str = Field(description="CPU as a Kubernetes quantity, rounded up to a millicore: 1500m.")

    @property
    def memory_bytes(self) -> int:
        """The memory in bytes: the quantity is exact, so this is the count it was written from."""
        return int(parse_quantity(self.memory).value)


class PodResources(_Status):
    """The TaskManager container's resources."""

    requests: ResourceAmounts = Field(description="Requests: total process memory and the CPU cores.")
    limits: ResourceAmounts = Field(description="Limits: the requests times the limit factors.")


class ManagedMemoryShare(_Status):
    """The part of each slot's managed memory one consumer type gets."""

    consumer: str = Field(description="OPERATOR, STATE_BACKEND or PYTHON, as Flink names them.")
    weight: int = Field(
        ge=0, description="Its weight in taskmanager.memory.managed.consumer-weights; 0 if absent."
    )
    fraction: float = Field(ge=0, le=1, description="Its fraction of a slot's managed memory.")
    bytes_per_slot: int = Field(
        ge=0,
        description="The bytes it gets in each slot, exactly (the only form written: a rounded copy says nothing new).",
    )
    reason: str | None = Field(
        default=None,
        description="Why it gets no managed memory, when it gets none (e.g. a state backend on the heap).",
    )


class NeedStatus(_Status):
    """One need of spec.sizing and what the layout gives that component."""

    component: str = Field(description="The component, as in spec.sizing.needs.")
    need_bytes: int = Field(ge=0, description="What the job needs, in bytes.")
    bytes: int | None = Field(default=None, ge=0, description="What the layout gives it, in bytes.")
    met: bool = Field(description="Whether the layout gives at least the need.")


class SizingStatus(_Status):
    """How the needs of spec.sizing were met."""

    mode: str = Field(
        description=(
            "Sized: no size was given, the operator pinned the smallest that meets the needs. Checked: a size "
            "was given, and the needs were checked against its layout."
        )
    )
    met: bool = Field(description="Whether the layout meets every need.")
    set_options: dict[str, str] = Field(
        default_factory=dict,
        alias="set",
        description="Sized: the Flink options the operator set (always the process size). Checked and not "
        "met: the options that would meet the needs.",
    )
    needs: list[NeedStatus] = Field(default_factory=list, description="Each need and what it got.")
    message: str = Field(default="", description="One line saying how the needs were met, or why not.")


class ConflictFix(_Status):
    """A change of the spec after which Flink accepts the configuration."""

    set_options: dict[str, str] = Field(
        default_factory=dict,
        alias="set",
        description="Flink option keys to set, with the value to write (in Flink's syntax).",
    )
    unset: list[str] = Field(default_factory=list, description="Flink option keys to remove.")
    fields: list[str] = Field(default_factory=list, description="The spec fields the change is made in.")
    summary: str = Field(description="The change in one line, in the spec's terms.")


class Conflict(_Status):
    """One reason Flink (or the spec itself) refuses the configuration."""

    reason: str = Field(description="A CamelCase word to group by: ComponentsExceedTotalFlink, ...")
    message: str = Field(description="Flink's exact message (or the operator's, for spec-level conflicts).")
    chain: list[str] = Field(
        default_factory=list, description="Every message of Flink's exception chain, outermost first."
    )
    keys: list[str] = Field(default_factory=list, description="The Flink option keys involved.")
    fields: list[str] = Field(default_factory=list, description="The spec fields involved.")
    primary: bool = Field(description="Whether this is the problem Flink itself would report first.")
    fixes: list[ConflictFix] = Field(
        default_factory=list,
        description=(
            "Changes that end this conflict. On the one Flink reports first: changes after which Flink "
            "accepts the configuration, fewest keys first (a changed size is the whole MiB nearest the "
            "spec's that Flink accepts); on a spec conflict: the Flink option to remove."
        ),
    )


class NoteLevel(StrEnum):
    """``memory.explain.NoteLevel`` as an enum, for the schema (the memory core has no enums)."""

    INFO = explain.NoteLevel.INFO.value
    WARNING = explain.NoteLevel.WARNING.value


class Origin(StrEnum):
    """``memory.explain.Origin`` as an enum, for the schema (the memory core has no enums)."""

    CONFIGURED = explain.Origin.CONFIGURED.value
    DEFAULT = explain.Origin.DEFAULT.value
    DERIVED = explain.Origin.DERIVED.value


class NoteStatus(_Status):
    """A rule Flink applied silently, or advice about a risky but accepted configuration."""

    level: NoteLevel = Field(description="Info or Warning.")
    code: str = Field(description="A CamelCase word to group by: CappedToMin, DeprecatedKey, ...")
    message: str = Field(description="What happened, in a sentence.")
    keys: list[str] = Field(default_factory=list, description="The Flink option keys involved.")
    fields: list[str] = Field(default_factory=list, description="The spec fields involved.")


class ExplainStep(_Status):
    """How one component got its size."""

    component: str = Field(description="The component, as in breakdown: taskHeap, network, ...")
    origin: Origin = Field(description="Configured, Default or Derived.")
    rule: str = Field(description="The rule that gave the size, in words.")
    keys: list[str] = Field(default_factory=list, description="The Flink option keys it came from.")


class Interpretation(_Status):
    """How one size string of the spec was read."""

    field: str = Field(description="The spec field: spec.resources.memory, spec.flinkConfiguration[<key>].")
    value: str = Field(description="The string as written.")
    convention: Convention = Field(description="Whose rules read it: Kubernetes or Flink.")
    bytes: int | None = Field(
        default=None, ge=0, description="The bytes it became; absent if it cannot be read."
    )
    ambiguous: bool = Field(
        description="Whether a reader used to the other convention would read it otherwise."
    )
    message: str = Field(description="How it was read, and the other reading if it differs.")


class AppliedConfigMap(_Status):
    """The ConfigMap last written."""

    name: str = Field(description="Its name.")
    generation: int = Field(ge=0, description="The metadata.generation of the spec it was written from.")
    hash: str | None = Field(
        default=None, description="A hash of the data written, to tell whether it changed."
    )


class TargetState(StrEnum):
    APPLIED = "Applied"
    MISSING = "Missing"
    CONTAINER_NOT_FOUND = "ContainerNotFound"
    NOT_PERMITTED = "NotPermitted"
    FAILED = "Failed"


class AppliedTarget(_Status):
    """One workload target and what was last written to it."""

    kind: WorkloadKind = Field(description="Deployment, StatefulSet or FlinkDeployment.")
    name: str = Field(description="The workload's name.")
    container: str | None = Field(default=None, description="The container whose resources were set.")
    state: TargetState = Field(
        description=(
            "Applied, Missing, ContainerNotFound, NotPermitted (not created by the operator and not opted "
            "in with the annotation flinkmemory.io/memory, or another resource's) or Failed."
        )
    )
    generation: int | None = Field(
        default=None, ge=0, description="The metadata.generation of the spec last written to it."
    )
    message: str | None = Field(default=None, description="Details, when the state is not Applied.")


class Applied(_Status):
    """What was last written, and from which generation of the spec."""

    config_map: AppliedConfigMap | None = Field(default=None, description="The ConfigMap last written.")
    targets: list[AppliedTarget] = Field(
        default_factory=list,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["kind", "name"]},
        description="Each workload target, keyed by kind and name.",
    )


class OomFix(_Status):
    """The smallest Flink-valid change giving the budget that ran out more room, checked by the engine."""

    flink_configuration: dict[str, str] = Field(
        default_factory=dict,
        description="Flink options to set on top of spec.flinkConfiguration, in Flink's syntax.",
    )
    resources: Resources | None = Field(
        default=None,
        description="Container changes, in the shape of spec.resources (only the fields that change).",
    )
    fields: list[str] = Field(default_factory=list, description="The spec fields the change is made in.")
    summary: str = Field(description="The change in one line, in the spec's terms.")
    budget_bytes: int | None = Field(
        default=None, ge=0, description="The budget's size in bytes after the change."
    )


class OomIncident(_Status):
    """One OOM kill of a TaskManager container."""

    pod: str = Field(description="The pod's name.")
    uid: str = Field(description="The pod's UID.")
    container: str = Field(description="The container the kernel killed.")
    restart_count: int = Field(ge=0, description="The container's restartCount when it was seen.")
    time: KubeTime | None = Field(
        default=None, description="When it was killed (terminated.finishedAt), if the kubelet said."
    )
    container_id: str | None = Field(
        default=None,
        description="The terminated container's ID (terminated.containerID), if the kubelet said.",
    )


OOM_INCIDENTS_KEPT = 5
"""Incidents kept in status.oomKills.incidents, newest last."""


class OomKillsStatus(_Status):
    """TaskManager containers killed for memory (OOMKilled), and which of Flink's budgets ran out."""

    count: int = Field(ge=0, description="Incidents seen for this resource, ever.")
    last_time: KubeTime | None = Field(
        default=None, description="When the last one was killed (terminated.finishedAt)."
    )
    last_pod: str = Field(description="The pod of the last incident.")
    last_container: str = Field(description="The container of the last incident.")
    container_limit: str | None = Field(
        default=None, description="The memory limit it ran with, as a Kubernetes quantity; absent if none."
    )
    budget: str = Field(
        description=(
            "The budget that ran out: memory outside the JVM's caps (heap, direct, metaspace), i.e. "
            "'JVM overhead', or 'JVM overhead + managed (RocksDB)' when the state backend lives in "
            "managed memory."
        )
    )
    budget_bytes: int = Field(ge=0, description="The budget's size in bytes, as the pod ran it.")
    budget_human: str = Field(description="The same, as Flink prints sizes.")
    ran_derived_layout: bool | None = Field(
        default=None,
        description=(
            "Whether the pod ran the layout in status.breakdown (its resources and pinned options); "
            "false: it is not this layout that failed, and no fix is proposed."
        ),
    )
    evidence: list[str] = Field(default_factory=list, description="What the attribution rests on.")
    fix: OomFix | None = Field(
        default=None,
        description=(
            "The smallest Flink-valid change giving the budget room; absent if none was ever proposed. An "
            "incident that proposes none (its pod ran an older layout, or the spec has conflicts) keeps "
            "the fix standing from an earlier one: see fixTime."
        ),
    )
    fix_time: KubeTime | None = Field(
        default=None,
        description="When the incident whose fix this is was killed (lastTime, or earlier when it stands).",
    )
    alternatives: list[OomFix] = Field(
        default_factory=list,
        description="Other changes that give the budget as much room, each engine-checked.",
    )
    incidents: list[OomIncident] = Field(
        default_factory=list,
        max_length=OOM_INCIDENTS_KEPT,
        description=f"The last {OOM_INCIDENTS_KEPT} incidents, oldest first.",
    )


class VersionComponentChange(_Status):
    """One component whose size a change of Flink release moves."""

    component: str = Field(description="The component, as in breakdown (managed, jvmOverhead, ...).")
    before: int | None = Field(
        default=None, ge=0, description="Bytes under the previous release; absent if it refused the options."
    )
    after: int | None = Field(
        default=None, ge=0, description="Bytes under the new release; absent if it refuses the options."
    )
    summary: str = Field(description="Both sizes as Flink prints them: 512.000mb -> 540.000mb.")


class VersionChange(_Status):
    """What the last change of spec.flinkVersion alone (every other field as applied) did to the layout."""

    from_version: str = Field(description="The Flink release of the spec applied before (major.minor).")
    to_version: str = Field(description="The Flink release of the spec now (major.minor).")
    generation: int = Field(ge=0, description="The metadata.generation whose flinkVersion changed.")
    same: bool = Field(description="Whether the layout stays the same to the byte.")
    changes: list[VersionComponentChange] = Field(
        default_factory=list, description="Every component that moves (none when same)."
    )
    reasons: list[str] = Field(
        default_factory=list,
        description="Why: keys one release reads and the other does not, changed readings, a refusal.",
    )
    message: str = Field(description="The change in a sentence, as the FlinkVersionChanged Event says it.")


MAX_USAGE_BUCKETS = 24
"""Per-interval maxima kept over the window: the window's peaks survive a restart in a bounded status."""
MAX_AUTO_HISTORY = 10


class UsagePeaks(_Status):
    """The largest value of each TaskManager memory metric, over all TaskManagers, in bytes."""

    heap: int = Field(ge=0, description="Status.JVM.Memory.Heap.Used: JVM heap in use.")
    metaspace: int = Field(ge=0, description="Status.JVM.Memory.Metaspace.Used: JVM metaspace in use.")
    managed: int = Field(ge=0, description="Status.Flink.Memory.Managed.Used: managed memory in use.")
    network: int = Field(ge=0, description="Status.Shuffle.Netty.UsedMemory: network buffers in use.")
    direct: int = Field(
        ge=0, description="Status.JVM.Memory.Direct.MemoryUsed: JVM direct buffers (network included)."
    )


class UsageBucket(_Status):
    """The peaks of one interval of the window."""

    start: KubeTime = Field(description="When the interval starts.")
    samples: int = Field(ge=1, description="How many polls fell into it.")
    peaks: UsagePeaks = Field(description="The peaks over the interval.")


class UsagePoll(_Status):
    """The last time the JobManager was asked, and what came back."""

    time: KubeTime = Field(description="When.")
    reason: str = Field(
        description=(
            "Sampled, JobManagerUnreachable, UnexpectedAnswer, MetricsMissing, MalformedMetrics, "
            "NoTaskManagers or VersionMismatch."
        )
    )
    message: str = Field(description="What happened, in a sentence.")
    task_managers: int | None = Field(default=None, ge=0, description="TaskManagers registered.")
    flink_version: str | None = Field(default=None, description="The JobManager's Flink version.")


class UsageStatus(_Status):
    """What the TaskManagers used over the window, kept across operator restarts."""

    since: KubeTime | None = Field(default=None, description="The first sample still in the window.")
    last_poll: UsagePoll | None = Field(default=None, description="The last poll.")
    buckets: list[UsageBucket] = Field(
        default_factory=list,
        max_length=MAX_USAGE_BUCKETS,
        description=f"Per-interval peaks over the window, oldest first, at most {MAX_USAGE_BUCKETS}.",
    )
    peaks: UsagePeaks | None = Field(default=None, description="The peaks over the whole window.")


class RecommendedLayout(_Status):
    """One recommended layout: the options to set and its total process memory."""

    process: str = Field(description="Total process memory, as Flink prints sizes: 2.125gb.")
    process_bytes: int = Field(ge=0, description="The same, in bytes.")
    set_options: dict[str, str] = Field(
        default_factory=dict, alias="set", description="The Flink options that give this layout."
    )


class ComponentMove(_Status):
    """One component: what the layout in effect gives it, what the target gives it, and why."""

    component: str = Field(description="As in breakdown: taskHeap, managed, ...")
    current_bytes: int = Field(ge=0, description="In the layout in effect.")
    target_bytes: int = Field(ge=0, description="In the target.")
    observed_bytes: int | None = Field(default=None, ge=0, description="The observed peak it answers to.")
    need_bytes: int | None = Field(default=None, ge=0, description="The observed peak plus the margin.")
    why: str = Field(description="Why it moved (or did not), in a sentence.")


class RecommendationStatus(_Status):
    """A layout from observed usage, shown as VPA shows one: target, lower and upper bound."""

    state: str = Field(
        description=(
            "Recommended, WindowTooShort (not observed long enough), NoUsage (no complete sample), "
            "Unmeetable, or InvalidSpec."
        )
    )
    message: str = Field(description="The recommendation, or why there is none, in a sentence.")
    observed_since: KubeTime | None = Field(default=None, description="Usage observed since.")
    target: RecommendedLayout | None = Field(
        default=None,
        description="Peaks plus the margin, within minProcess and maxProcess: what Auto and Initial apply.",
    )
    uncapped_target: RecommendedLayout | None = Field(
        default=None, description="Peaks plus the margin, ignoring minProcess and maxProcess."
    )
    lower_bound: RecommendedLayout | None = Field(
        default=None, description="The observed peaks with no margin: anything smaller misses a peak."
    )
    upper_bound: RecommendedLayout | None = Field(
        default=None, description="The peaks plus twice the margin: anything larger is mostly unused."
    )
    components: list[ComponentMove] = Field(
        default_factory=list, description="Each component, in effect against target, and why it moved."
    )


class AutoUpdate(_Status):
    """A recommendation the operator applied by itself (updateMode Initial or Auto)."""

    time: KubeTime = Field(description="When.")
    reason: str = Field(description="Why, in a sentence.")
    from_process_bytes: int | None = Field(default=None, ge=0, description="Total process memory before.")
    process_bytes: int = Field(ge=0, description="Total process memory applied.")
    set_options: dict[str, str] = Field(
        default_factory=dict, alias="set", description="The Flink options applied over the spec's."
    )
    oom_kill_time: KubeTime | None = Field(
        default=None,
        description="The OOM kill (status.oomKills.lastTime) whose fix this change meets, kept as a floor.",
    )


class AutoUpdates(_Status):
    """What updateMode Initial or Auto applied, and why the last recommendation was (not) applied."""

    current: AutoUpdate | None = Field(default=None, description="The recommendation in effect.")
    history: list[AutoUpdate] = Field(
        default_factory=list,
        max_length=MAX_AUTO_HISTORY,
        description=f"Earlier automatic changes, newest first, at most {MAX_AUTO_HISTORY}.",
    )
    decision: str | None = Field(
        default=None, description="Why the last recommendation was applied or held back."
    )


class FlinkTaskManagerMemoryStatus(_Status):
    """What the operator derived, wrote and found; written only by the operator."""

    observed_generation: int | None = Field(
        default=None, ge=0, description="The metadata.generation of the spec this status describes."
    )
    flink_version: str | None = Field(
        default=None, description="The Flink release the layout was derived for."
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
        description="Ready, ConfigValid and Applied, keyed by type.",
    )
    breakdown: Breakdown | None = Field(
        default=None,
        description=(
            "Every memory component of the layout in effect, in bytes (one integer each, as Flink's REST "
            "API gives memoryConfiguration): derived from the spec at observedGeneration, or, while that "
            "spec has conflicts, from the last spec applied (applied.configMap.generation), which is what "
            "the ConfigMap and the workloads keep. Absent when there is neither. The layout fields summary, "
            "cpuCores, numSlots, jvmParameters, dynamicConfigs, podResources, managedMemorySplit and "
            "explain describe the same layout."
        ),
    )
    summary: LayoutSummary | None = Field(
        default=None,
        description=(
            "The sizes kubectl get shows (process, heap, managed, network), in Flink's short form: the "
            "same layout as breakdown, rounded as Flink prints sizes."
        ),
    )
    cpu_cores: float | None = Field(
        default=None, ge=0, description="CPU cores, as Flink pins taskmanager.cpu.cores."
    )
    num_slots: int | None = Field(
        default=None, ge=1, description="Task slots (taskmanager.numberOfTaskSlots)."
    )
    jvm_parameters: str | None = Field(
        default=None,
        description=(
            "The JVM flags Flink starts the TaskManager with (-Xmx, -Xms, direct, metaspace), for the "
            "layout in breakdown."
        ),
    )
    dynamic_configs: str | None = Field(
        default=None, description="Every component pinned as Flink's own -D key=<bytes>b flags."
    )
    pod_resources: PodResources | None = Field(
        default=None,
        description="The TaskManager container's resources, for the layout in breakdown (what the workloads get).",
    )
    managed_memory_split: list[ManagedMemoryShare] = Field(
        default_factory=list, description="Each slot's managed memory, split by consumer type."
    )
    sizing: SizingStatus | None = Field(
        default=None,
        description="How spec.sizing.needs were met: the size found, or whether the given one meets them.",
    )
    conflicts: list[Conflict] = Field(
        default_factory=list,
        description="Every reason the configuration is refused, all at once; absent when there is none.",
    )
    notes: list[NoteStatus] = Field(
        default_factory=list, description="Rules Flink applied silently, and warnings; absent when none."
    )
    explain: list[ExplainStep] | None = Field(
        default=None,
        description="For each component: configured, default or derived, and how (with spec.explain: true).",
    )
    interpretations: list[Interpretation] = Field(
        default_factory=list,
        description=(
            "The size strings of the spec whose reading is not the obvious one, and the bytes each became: "
            "a Kubernetes quantity (spec.resources.memory), one a reader used to the other convention "
            "would read otherwise (ambiguous), or one that cannot be read. A plain Flink size (1728m, 4g) "
            "is read as Flink reads it and is not listed."
        ),
    )
    applied: Applied | None = Field(
        default=None, description="What was last written, and from which generation."
    )
    oom_kills: OomKillsStatus | None = Field(
        default=None,
        description=(
            "TaskManager containers of the targets (and of pods sized through the profile label) killed "
            "for memory: how often, the last one, which budget ran out and the fix. Written by the "
            "operator's pod watch, kept by reconciliation."
        ),
    )
    last_version_change: VersionChange | None = Field(
        default=None,
        description=(
            "What the last upgrade (or downgrade) of spec.flinkVersion on an otherwise unchanged spec "
            "changes in the layout, against the layout applied before it; kept until the next one."
        ),
    )
    usage: UsageStatus | None = Field(
        default=None, description="What the TaskManagers used over the window (spec.recommendations)."
    )
    recommendation: RecommendationStatus | None = Field(
        default=None, description="The layout the observed usage recommends (spec.recommendations)."
    )
    auto_updates: AutoUpdates | None = Field(
        default=None, description="What updateMode Initial or Auto applied, and why."
    )


class FlinkTaskManagerMemory(_Status):
    """Derives Flink TaskManager memory from a total, writes it to a ConfigMap and workloads, and explains it."""

    api_version: str = Field(
        API_VERSION,
        description=(
            "APIVersion defines the versioned schema of this representation of an object. Servers "
            "should convert recognized schemas to the latest internal value, and may reject "
            "unrecognized values."
        ),
    )
    kind: str = Field(
        KIND,
        description=(
            "Kind is a string value representing the REST resource this object represents. Servers may "
            "infer this from the endpoint the client submits requests to. In CamelCase."
        ),
    )
    # The API server owns metadata's schema: a CRD may say no more about it than its type.
    metadata: Annotated[ObjectMeta, WithJsonSchema({"type": "object"})] = Field(default_factory=ObjectMeta)
    spec: FlinkTaskManagerMemorySpec = Field(
        description="What to derive, from which configuration, and where to write it."
    )
    status: FlinkTaskManagerMemoryStatus | None = Field(
        default=None,
        description=(
            "What the operator derived, wrote and found. Empty lists and maps are left out: a field that "
            "is absent has nothing to say."
        ),
    )

    @model_validator(mode="after")
    def _this_kind(self) -> FlinkTaskManagerMemory:
        if (self.api_version, self.kind) != (API_VERSION, KIND):
            raise ValueError(f"expected {API_VERSION} {KIND}, got {self.api_version} {self.kind}")
        return self

    @property
    def config_map_name(self) -> str:
        """The ConfigMap to write: the one named in the spec, else ``<name>-flink-tm-memory``."""
        return self.spec.targets.config_map.name or f"{self.metadata.name}{CONFIG_MAP_SUFFIX}"
