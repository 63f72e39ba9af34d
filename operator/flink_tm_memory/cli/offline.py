"""``flink-tm-memory check`` and ``render``: the operator's verdict and writes, without a cluster.

For the CI of a GitOps repository. ``check -f FILE|DIR ...`` judges every FlinkTaskManagerMemory in
the manifests exactly as the validating webhook does (``render.admission``: every conflict with the
fix that changes least, the warnings kubectl would print), and shows what the resource would write to
each of its target workloads that the same manifests hold (a Deployment's or StatefulSet's TaskManager
container, a FlinkDeployment's ``spec.taskManager.resource`` and pinned options): the change, or why it
could not be made. Exit 1 when anything would be denied or a file cannot be read.

``render -f FILE|DIR ...`` prints, per resource, what the operator would write: the ConfigMap, the
patch of each target workload found in the manifests, and the status. What only a cluster knows is
left out: the resource's uid (so the ConfigMap's owner reference carries none), and whether a write
would succeed.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from flink_tm_memory.cli.errors import CONFIGURATION_EXIT, UsageError
from flink_tm_memory.cli.manifests import Manifest, Manifests, read_manifests
from flink_tm_memory.render.admission import admission_verdict, one_line
from flink_tm_memory.render.plan import MemoryPlan, derive_memory_plan

Json = dict[str, Any]


def run_check(arguments: argparse.Namespace) -> int:
    manifests = _read(arguments.files)
    reports = [_check_resource(resource, manifests) for resource in manifests.memory_resources()]
    denied = sum(1 for report in reports if not report["allowed"])
    document = {
        "resources": reports,
        "errors": list(manifests.errors),
        "denied": denied,
        "files": len({document.source.rsplit("#", 1)[0] for document in manifests.documents}),
    }
    if arguments.format == "json":
        from flink_tm_memory.cli.formats.structured import render_json

        sys.stdout.write(render_json(document))
    else:
        sys.stdout.write(_check_text(document))
    return CONFIGURATION_EXIT if denied or manifests.errors else 0


def run_render(arguments: argparse.Namespace) -> int:
    manifests = _read(arguments.files)
    rendered = [_render_resource(resource, manifests) for resource in manifests.memory_resources()]
    from flink_tm_memory.cli.formats.structured import render_json

    document = {"resources": rendered, "errors": list(manifests.errors)}
    sys.stdout.write(render_json(document) if arguments.format == "json" else _yaml(document))
    failed = any(not entry["valid"] for entry in rendered)
    return CONFIGURATION_EXIT if failed or manifests.errors else 0


def _read(paths: list[str]) -> Manifests:
    if not paths:
        raise UsageError("give the manifests with -f FILE or -f DIR (repeatable)")
    return read_manifests(paths)


# ---------------------------------------------------------------------- check


def _check_resource(resource: Manifest, manifests: Manifests) -> Json:
    verdict = admission_verdict(resource.body)
    spec = resource.body.get("spec")
    plan = derive_memory_plan(spec) if isinstance(spec, dict) else None
    return {
        "source": resource.source,
        "namespace": resource.namespace,
        "name": resource.name,
        "allowed": verdict.allowed,
        "message": verdict.message,
        "warnings": list(verdict.warnings),
        "conflicts": [conflict.to_manifest() for conflict in plan.conflicts] if plan else [],
        "targets": _targets(resource, plan, manifests) if plan and plan.layout is not None else [],
    }


def _check_text(document: Json) -> str:
    lines = [f"error: {error}" for error in document["errors"]]
    for report in document["resources"]:
        where = f"{report['namespace']}/{report['name']}" if report["namespace"] else report["name"]
        verdict = "admitted" if report["allowed"] else "denied"
        lines.append(f"{report['source']}: FlinkTaskManagerMemory {where}: {verdict}")
        lines += [f"  {line}" for line in report["message"].splitlines()]
        for fix in _other_fixes(report):
            lines.append(f"  or: {fix}")
        lines += [f"  warning: {warning}" for warning in report["warnings"]]
        lines += [f"  {target['kind']} {target['name']}: {target['summary']}" for target in report["targets"]]
    count = len(document["resources"])
    lines.append(
        f"{count} FlinkTaskManagerMemor{'y' if count == 1 else 'ies'} in {document['files']} "
        f"file{'' if document['files'] == 1 else 's'}: {document['denied']} denied"
        + (f", {len(document['errors'])} unreadable" if document["errors"] else "")
    )
    return "\n".join(lines) + "\n"


def _other_fixes(report: Json) -> list[str]:
    """The fixes after the first (which the denial message already ends with)."""
    return [
        one_line(fix["summary"])
        for conflict in report["conflicts"]
        if conflict.get("primary")
        for fix in conflict.get("fixes", [])[1:]
    ]


# ---------------------------------------------------------------------- targets


def _targets(resource: Manifest, plan: MemoryPlan, manifests: Manifests) -> list[Json]:
    from flink_tm_memory.control.apply import plan_pod_resources
    from flink_tm_memory.render.workloads import (
        plan_container_write,
        plan_flink_deployment_write,
        render_flink_deployment_resources,
    )
    from flink_tm_memory.render.writes import Absent, Patch, Refused, Unchanged

    assert plan.spec is not None
    assert plan.resolved is not None
    assert plan.layout is not None
    resources = plan_pod_resources(plan)
    assert resources is not None
    found = []
    for target in plan.spec.targets.workloads:
        manifest = manifests.workload(str(target.kind), target.name, resource.namespace)
        body = manifest.body if manifest else None
        if str(target.kind) == "FlinkDeployment":
            wanted = render_flink_deployment_resources(plan.layout, plan.spec, plan.resolved)
            decision = plan_flink_deployment_write(body, wanted)
        else:
            decision = plan_container_write(body, target.container, resources)
        entry: Json = {
            "kind": str(target.kind),
            "name": target.name,
            "source": manifest.source if manifest else None,
        }
        if isinstance(decision, Absent):
            entry["summary"] = "not among these manifests (written when it appears in the cluster)"
        elif isinstance(decision, Refused):
            entry["summary"] = f"cannot be written: {decision.message}"
        elif isinstance(decision, Unchanged):
            entry["summary"] = "already sized as the resource derives"
        elif isinstance(decision, Patch):
            entry["patch"] = _without_resource_version(decision.body)
            entry["summary"] = f"would be patched: {_patch_summary(entry['patch'])}"
        found.append(entry)
    return found


def _patch_summary(patch: Json) -> str:
    spec = patch.get("spec") or {}
    parts = []
    for container in ((spec.get("template") or {}).get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        amounts = "; ".join(
            f"{side} " + ", ".join(f"{name} {value}" for name, value in (resources.get(side) or {}).items())
            for side in ("requests", "limits")
            if resources.get(side)
        )
        parts.append(f"container {container.get('name')} {amounts}")
    resource = (spec.get("taskManager") or {}).get("resource")
    if resource:
        parts.append(
            "spec.taskManager.resource " + ", ".join(f"{key} {value}" for key, value in resource.items())
        )
    if spec.get("flinkConfiguration"):
        parts.append(f"{len(spec['flinkConfiguration'])} options pinned in spec.flinkConfiguration")
    return "; ".join(parts)


def _without_resource_version(body: Json) -> Json:
    metadata = {key: value for key, value in (body.get("metadata") or {}).items() if key != "resourceVersion"}
    return {
        **({"metadata": metadata} if metadata else {}),
        **{k: v for k, v in body.items() if k != "metadata"},
    }


# ---------------------------------------------------------------------- render


def _render_resource(resource: Manifest, manifests: Manifests) -> Json:
    from flink_tm_memory.control.apply import desired_config_map, plan_pod_resources
    from flink_tm_memory.render.metadata import MemoryRef
    from flink_tm_memory.render.status import StatusInput, render_status

    spec = resource.body.get("spec")
    plan = derive_memory_plan(spec if isinstance(spec, dict) else {})
    memory = MemoryRef(resource.name, resource.namespace or "default", "", 1)
    status = render_status(
        StatusInput(
            generation=1,
            current=plan,
            effective=plan if plan.layout is not None else None,
            effective_generation=1 if plan.layout is not None else None,
            pod_resources=plan_pod_resources(plan),
            outcome=None,
            previous={},
            now=datetime.now(UTC).replace(microsecond=0),
        )
    )
    entry: Json = {"source": resource.source, "namespace": memory.namespace, "name": memory.name}
    entry["valid"] = plan.layout is not None
    if plan.layout is not None:
        config_map = desired_config_map(memory, plan)
        entry["configMap"] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": config_map.name,
                "namespace": config_map.namespace,
                "labels": config_map.labels,
            },
            "data": config_map.data,
        }
        entry["workloads"] = _targets(resource, plan, manifests)
    entry["status"] = status
    return entry


def _yaml(document: Json) -> str:
    """YAML with multi-line strings (the ConfigMap's config file) as literal blocks, as kubectl shows them."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = (
            "|" if "\n" in value and not any(line != line.rstrip() for line in value.splitlines()) else None
        )
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, text)
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000)
