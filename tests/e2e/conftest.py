"""The real node the end-to-end tests share: built once, started once per run, removed at the end.

``node_images`` builds the images (cached under ``.tools/images`` by the hash of their inputs) and
``node_cluster`` starts the single-node cluster in its own network namespace
(``tests/e2e/node/``). At the end of the run the cluster is stopped; the teardown fails if any
packet was sent towards an address outside that namespace (see ``netns.py``) or if anything of the
cluster was left behind.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.controlplane import build_tools
from tests.e2e.node.cluster import FLINK_VERSIONS, NodeCluster, chart_default_image, start_node_cluster
from tests.e2e.node.images import NodeImages, build_node_images

ROOT = Path(__file__).resolve().parents[2]


def _say(message: str) -> None:
    print(f"[node] {message}", file=sys.stderr, flush=True)


@pytest.fixture(scope="session")
def node_images() -> NodeImages:
    return build_node_images(ROOT, FLINK_VERSIONS, log=_say)


@pytest.fixture(scope="session")
def node_cluster(node_images: NodeImages, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeCluster]:
    archives = [
        node_images.pause.path,
        node_images.operator.path,
        *(image.path for image in node_images.flink.values()),
    ]
    workdir = tmp_path_factory.mktemp("node")
    aliases = {node_images.operator.reference: chart_default_image(ROOT)}
    with start_node_cluster(build_tools(ROOT), archives, workdir, image_aliases=aliases, log=_say) as cluster:
        yield cluster
        escaped = cluster.namespace.escaped_packets()
        assert escaped == [], f"packets were sent out of the cluster's network namespace: {escaped}"
