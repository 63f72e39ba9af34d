"""The operator's own certificates rotated on the real node, while the API server keeps calling the webhook.

The chart is installed with validities of seconds (a CA of 90 s, serving certificates of 30 s, an
overlap of 10 s, checks every 2 s) into the restricted namespace, as users install it otherwise.
Server-side dry runs of a ``FlinkTaskManagerMemory`` (``kubectl apply --dry-run=server``: the API
server calls the validating webhook, ``failurePolicy: Fail``) run one after the other through a whole
CA rotation and several serving renewals, and every one must succeed. What the test watches:

- the Secret the chart created (and only the operator filled): its serving certificate's serial
  changes, its signing CA changes;
- the webhook configurations' ``caBundle``: old and new CA together during the rotation, then the
  new one alone. A dry run that succeeds once the bundle holds only the new CA proves the pod serves
  a certificate of the new CA: the API server trusts nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.e2e.node.cluster import NodeCluster
from tests.e2e.node.images import NodeImages
from tests.e2e.support import RELEASE, SYSTEM, ChartOnNode, eventually, webhooks_trusted

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "manifests" / "samples" / "process-size.yaml"
APPS = "rotation"
SECRET = f"{RELEASE}-webhook-certificates"
SHORT = {
    "webhook.selfSigned.caValidity": "90s",
    "webhook.selfSigned.certificateValidity": "30s",
    "webhook.selfSigned.rotationOverlap": "10s",
    "webhook.selfSigned.checkInterval": "2",
}
Json = dict[str, Any]


def fingerprint(pem: bytes) -> str:
    return hashlib.sha256(pem).hexdigest()[:12]


@dataclass
class Observed:
    """What the dry runs and the watches saw, in order."""

    calls: int = 0
    failures: list[str] = field(default_factory=list)
    serials: list[int] = field(default_factory=list)
    signing: list[str] = field(default_factory=list)
    bundles: list[tuple[str, ...]] = field(default_factory=list)

    def note(self, values: Any, changes: list[Any]) -> None:
        if not changes or changes[-1] != values:
            changes.append(values)


class Rotation(ChartOnNode):
    def secret(self) -> dict[str, bytes]:
        found = self.kubectl("get", "secret", SECRET, "-n", SYSTEM, "-o", "json")
        data = json.loads(found.stdout).get("data") or {}
        return {key: base64.b64decode(value) for key, value in data.items()}

    def bundle(self, kind: str) -> tuple[str, ...]:
        found = self.kubectl(
            "get", kind, RELEASE, "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}", check=False
        )
        if found.returncode != 0 or not found.stdout:
            return ()
        pems = x509.load_pem_x509_certificates(base64.b64decode(found.stdout))
        return tuple(fingerprint(ca.public_bytes(serialization.Encoding.PEM)) for ca in pems)

    def dry_run(self) -> subprocess.CompletedProcess[str]:
        return self.kubectl(
            "apply",
            "-n",
            APPS,
            "--dry-run=server",
            "-f",
            "-",
            input=SAMPLE.read_text(encoding="utf-8"),
            check=False,
        )

    def observe(self, observed: Observed) -> None:
        data = self.secret()
        observed.note(x509.load_pem_x509_certificate(data["tls.crt"]).serial_number, observed.serials)
        observed.note(fingerprint(data["ca.crt"]), observed.signing)
        observed.note(self.bundle("validatingwebhookconfiguration"), observed.bundles)


@pytest.fixture(scope="module")
def rotation(node_cluster: NodeCluster, node_images: NodeImages) -> Iterator[Rotation]:
    rotation = Rotation(node_cluster, node_images)
    rotation.kubectl("create", "namespace", SYSTEM, check=False)  # another module may have left it
    rotation.kubectl(
        "label", "namespace", SYSTEM, "pod-security.kubernetes.io/enforce=restricted", "--overwrite"
    )
    rotation.install(SHORT)
    rotation.kubectl("wait", "--for=condition=Established", "crd/flinktaskmanagermemories.flinkmemory.io")
    rotation.kubectl("create", "namespace", APPS)
    eventually(
        lambda: webhooks_trusted(rotation.kubectl, RELEASE), what="caBundle in the webhook configurations"
    )
    yield rotation
    rotation.kubectl("delete", "namespace", APPS, "--wait=false", check=False)
    rotation.helm("uninstall", RELEASE, "--namespace", SYSTEM, "--wait")
    rotation.kubectl("delete", "namespace", SYSTEM, "--wait=true", "--timeout=120s", check=False)


def test_the_chart_made_the_secret_and_the_operator_filled_it(rotation: Rotation) -> None:
    data = eventually(lambda: rotation.secret() or None, what="the Secret filled")
    assert {"ca.crt", "ca.key", "tls.crt", "tls.key"} <= set(data)
    served = x509.load_pem_x509_certificate(data["tls.crt"])
    names = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert f"{RELEASE}-webhook.{SYSTEM}.svc" in names.get_values_for_type(x509.DNSName)
    metadata = json.loads(rotation.kubectl("get", "secret", SECRET, "-n", SYSTEM, "-o", "json").stdout)[
        "metadata"
    ]
    assert (
        metadata["annotations"]["meta.helm.sh/release-name"] == RELEASE
    )  # the chart's, filled by the operator


def test_a_ca_rotation_and_serving_renewals_fail_no_admission_call(rotation: Rotation) -> None:
    observed = Observed()
    rotation.observe(observed)
    first_ca = observed.signing[0]
    deadline = time.monotonic() + 240  # a CA rotation starts 60 s after the CA; a busy node is slower

    def rotated_and_settled() -> bool:
        return len(observed.signing) >= 2 and observed.bundles[-1] == (observed.signing[-1],)

    while time.monotonic() < deadline and not (rotated_and_settled() and len(observed.serials) >= 4):
        called = rotation.dry_run()
        observed.calls += 1
        if called.returncode != 0:
            observed.failures.append(f"{time.strftime('%H:%M:%S')} {called.stderr.strip()[:300]}")
        rotation.observe(observed)

    summary = json.dumps({**observed.__dict__, "serials": len(observed.serials)}, default=str)
    assert observed.failures == [], f"{summary}\n{rotation.operator_log()}"
    assert observed.calls >= 30, summary
    assert len(observed.serials) >= 4, f"the serving certificate was renewed: {summary}"
    assert first_ca not in observed.signing[1:], summary
    assert any(len(bundle) == 2 for bundle in observed.bundles), f"old and new CA together: {summary}"
    assert rotated_and_settled(), f"the old CA left the bundle: {summary}"
    assert rotation.bundle("mutatingwebhookconfiguration") == observed.bundles[-1]
    final = rotation.dry_run()  # trusted only through the new CA: the pod serves its certificate
    assert final.returncode == 0, final.stderr
