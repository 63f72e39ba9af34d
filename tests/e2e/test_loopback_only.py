"""Loopback only, provably: nothing the cluster runs sends a packet out of its network namespace.

The cluster (``tests/e2e/node/``) lives in a network namespace the tests create; inside, every
destination that is not the namespace's own (loopback, the node's address, the ``kubernetes``
Service's ClusterIP, the pods' bridge) is routed into a sink through an iptables rule that counts
what reaches it (``netns.py``). The session's teardown fails if that counter is not zero at the end;
these tests show the counter works and check it, and the cluster's sockets, while the cluster runs.
"""

from __future__ import annotations

import subprocess

from tests.e2e.node.cluster import NodeCluster
from tests.e2e.node.netns import NetworkNamespace

UNROUTED = "192.0.2.1"
"""TEST-NET-1 (RFC 5737): reserved for documentation, routed nowhere; here it only reaches the sink."""


def test_an_attempt_to_leave_the_namespace_is_counted() -> None:
    namespace = NetworkNamespace.create()
    try:
        assert namespace.escaped_packets() == []
        attempt = subprocess.run(
            namespace.command(["timeout", "1", "bash", "-c", f"echo > /dev/tcp/{UNROUTED}/9"]),
            capture_output=True,
            check=False,
        )
        assert attempt.returncode != 0
        escaped = namespace.escaped_packets()
        assert escaped, "the attempt was not counted"
        assert sum(packets for packets, _ in escaped) >= 1
    finally:
        namespace.stop()
    assert namespace.processes() == []


def test_the_cluster_runs_inside_its_namespace_and_nothing_left_it(node_cluster: NodeCluster) -> None:
    namespace = node_cluster.namespace
    inside = " ".join(namespace.processes())
    for daemon in ("controlplane", "containerd", "kubelet", "kube-scheduler"):
        assert daemon in inside, f"{daemon} is not in the cluster's namespace: {inside}"
    connections = namespace.open_connections()
    assert connections, "the cluster has no connection at all: the check would prove nothing"
    outside = [(local, remote) for local, remote in connections if not namespace.addresses.is_inside(remote)]
    assert outside == []
    assert namespace.escaped_packets() == []
