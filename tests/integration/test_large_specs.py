"""Large specs without the webhook: what is recorded on the resource never outgrows it, and the status says why.

The API server allows 256 KiB of annotations per object (the emulator enforces it, as it does). A spec
is copied into annotations by ``kubectl apply`` (``last-applied-configuration``), by the operator (the
last applied spec, bounded and compressed) and formerly by kopf (its diff base, now digests). Before,
a spec of about 130 KiB pushed kopf's annotation patch past the limit: refused, so the status (kopf
writes it after its annotations) never came, only tracebacks.
"""

from __future__ import annotations

import copy
import json
import random
import string

from flink_tm_memory.render.metadata import LAST_APPLIED_ANNOTATION, render_applied_spec
from tests.integration.emulator import ANNOTATIONS_LIMIT
from tests.integration.kubectl import (
    CONFIG_MAPS,
    MEMORIES,
    Json,
    Kubectl,
    eventually,
    observed,
    ready,
    sample,
)

KUBECTL_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
DIFF_BASE = "flinkmemory.io/last-handled-configuration"


def padded(name: str, spec_bytes: int, *, seed: int = 14) -> Json:
    """The process-size sample with incompressible pass-through options, about ``spec_bytes`` as JSON."""
    manifest = copy.deepcopy(sample("process-size"))
    manifest["metadata"] = {"name": name}
    options = manifest["spec"]["flinkConfiguration"]
    chance = random.Random(seed)
    index = 0
    while len(json.dumps(manifest["spec"], separators=(",", ":"))) < spec_bytes:
        options[f"pipeline.global-job-parameters.pad{index}"] = "".join(
            chance.choices(string.ascii_letters + string.digits, k=1000)
        )
        index += 1
    return manifest


def as_kubectl_applies(manifest: Json, **annotations: str) -> Json:
    """The manifest as ``kubectl apply`` creates it: with its own copy in an annotation."""
    applied = copy.deepcopy(manifest)
    copy_of_it = json.dumps(manifest, separators=(",", ":"))
    applied["metadata"]["annotations"] = {KUBECTL_LAST_APPLIED: copy_of_it, **annotations}
    return applied


def annotation_bytes(body: Json) -> int:
    return sum(len(key) + len(value) for key, value in body["metadata"].get("annotations", {}).items())


async def test_a_spec_too_large_to_apply_gets_its_status_and_small_records(
    operator: object, kubectl: Kubectl
) -> None:
    manifest = padded("huge", 130 * 1024)
    await kubectl.create(MEMORIES, as_kubectl_applies(manifest))
    status = await observed(kubectl, "huge", 1, timeout=15)

    valid = kubectl.condition("huge", "ConfigValid")
    assert valid["status"] == "False"
    assert valid["reason"] == "SpecTooLarge"
    assert valid["message"].startswith("spec.flinkConfiguration (")
    assert status["conflicts"][0]["reason"] == "SpecTooLarge"
    body = kubectl.get(MEMORIES, "huge") or {}
    annotations = body["metadata"]["annotations"]
    assert len(annotations[DIFF_BASE]) < 1024  # digests, not a 130 KiB copy
    assert LAST_APPLIED_ANNOTATION not in annotations
    assert annotation_bytes(body) <= ANNOTATIONS_LIMIT


async def test_a_spec_near_the_limit_is_applied_and_recorded_compressed(
    operator: object, kubectl: Kubectl
) -> None:
    manifest = padded("large", 56 * 1024)
    await kubectl.create(MEMORIES, as_kubectl_applies(manifest))
    await ready(kubectl, "large", timeout=15)

    annotations = (kubectl.get(MEMORIES, "large") or {})["metadata"]["annotations"]
    assert annotations[LAST_APPLIED_ANNOTATION] == render_applied_spec(1, manifest["spec"])
    assert annotations[LAST_APPLIED_ANNOTATION].startswith("zlib+base64:")
    assert len(annotations[LAST_APPLIED_ANNOTATION]) < 56 * 1024
    assert len(annotations[DIFF_BASE]) < 1024
    config = (kubectl.get(CONFIG_MAPS, "large-flink-tm-memory") or {})["data"]["config.yaml"]
    assert "pipeline.global-job-parameters.pad50: " in config

    # kept after the spec turns invalid: the compressed record is read back
    await kubectl.patch(
        MEMORIES, "large", {"spec": {"flinkConfiguration": {"taskmanager.memory.process.size": "1m"}}}
    )
    await observed(kubectl, "large", 2)
    assert kubectl.condition("large", "Applied")["reason"] == "LastGoodKept"


async def test_a_valid_spec_that_cannot_be_recorded_is_not_written_and_the_status_says_why(
    operator: object, kubectl: Kubectl
) -> None:
    manifest = padded("crowded", 56 * 1024)
    record = render_applied_spec(1, manifest["spec"])
    crowded = as_kubectl_applies(manifest)
    used = annotation_bytes(crowded)
    # room for kopf's few hundred bytes, not for the record
    filler = (
        ANNOTATIONS_LIMIT
        - used
        - len(LAST_APPLIED_ANNOTATION)
        - len(record)
        + 200
        - len("team.example/notes")
    )
    crowded["metadata"]["annotations"]["team.example/notes"] = "n" * filler
    await kubectl.create(MEMORIES, crowded)
    await observed(kubectl, "crowded", 1, timeout=15)

    applied = kubectl.condition("crowded", "Applied")
    assert applied["status"] == "False"
    assert applied["reason"] == "SpecNotRecorded"
    assert applied["message"].startswith(f"metadata.annotations[{LAST_APPLIED_ANNOTATION}]: ")
    assert "Too long: must have at most 262144 bytes" in applied["message"]
    assert "The largest annotation is team.example/notes" in applied["message"]
    assert kubectl.condition("crowded", "Ready")["reason"] == "SpecNotRecorded"
    assert kubectl.get(CONFIG_MAPS, "crowded-flink-tm-memory") is None
    events = await eventually(
        lambda: [event for event in kubectl.events("crowded") if event["reason"] == "SpecNotRecorded"]
    )
    assert events[0]["type"] == "Warning"

    # room made: the drift check records and writes it, no edit of the spec needed
    await kubectl.patch(MEMORIES, "crowded", {"metadata": {"annotations": {"team.example/notes": None}}})
    await ready(kubectl, "crowded", timeout=15)
    assert kubectl.get(CONFIG_MAPS, "crowded-flink-tm-memory") is not None
    assert len([event for event in kubectl.events("crowded") if event["reason"] == "SpecNotRecorded"]) == 1
