"""kopf's diff base as digests: the same change detection as a full copy, in a few hundred bytes."""

from __future__ import annotations

import copy
import json
from typing import Any, cast

import kopf

from flink_tm_memory.runtime.diff_base import DIGESTS_KEY, DigestDiffBaseStorage

KEY = "flinkmemory.io/last-handled-configuration"


def body(spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "flinkmemory.io/v1alpha1",
        "kind": "FlinkTaskManagerMemory",
        "metadata": {"name": "orders", "namespace": "flink", "uid": "u", "resourceVersion": "3", **metadata},
        "spec": spec,
        "status": {"observedGeneration": 1},
    }


def stored(storage: DigestDiffBaseStorage, raw: dict[str, Any]) -> dict[str, Any]:
    """The object after kopf stored its diff base on it."""
    patch = kopf.Patch()
    storage.store(
        body=kopf.Body(cast(kopf.RawBody, raw)),
        patch=patch,
        essence=storage.build(body=kopf.Body(cast(kopf.RawBody, raw))),
    )
    after = copy.deepcopy(raw)
    after["metadata"].setdefault("annotations", {}).update(patch["metadata"]["annotations"])
    return after


def storage() -> DigestDiffBaseStorage:
    return DigestDiffBaseStorage(prefix="flinkmemory.io", key="last-handled-configuration")


def test_nothing_stored_is_a_new_resource() -> None:
    assert storage().fetch(body=kopf.Body(cast(kopf.RawBody, body({"flinkVersion": "2.2"})))) is None


def test_an_unchanged_resource_fetches_exactly_its_essence() -> None:
    store = storage()
    raw = stored(store, body({"flinkVersion": "2.2"}, labels={"team": "a"}, annotations={"note": "x"}))
    live = kopf.Body(cast(kopf.RawBody, raw))
    assert store.fetch(body=live) == store.build(body=live)


def test_a_spec_change_shows_in_the_spec_only() -> None:
    store = storage()
    raw = stored(store, body({"flinkVersion": "2.2", "resources": {"memory": "4Gi"}}, labels={"team": "a"}))
    raw["spec"]["resources"]["memory"] = "5Gi"
    live = kopf.Body(cast(kopf.RawBody, raw))
    old = store.fetch(body=live)
    new = store.build(body=live)
    assert old is not None
    assert old["metadata"] == new["metadata"]
    assert old["spec"] != new["spec"]
    assert set(old["spec"]) == {DIGESTS_KEY}


def test_a_label_change_shows_in_the_metadata_only() -> None:
    store = storage()
    raw = stored(store, body({"flinkVersion": "2.2"}, labels={"team": "a"}))
    raw["metadata"]["labels"]["team"] = "b"
    live = kopf.Body(cast(kopf.RawBody, raw))
    old = store.fetch(body=live)
    assert old is not None
    assert old["spec"] == raw["spec"]
    assert old["metadata"]["labels"] != raw["metadata"]["labels"]


def test_a_removed_field_shows_as_changed_and_an_added_one_as_added() -> None:
    store = storage()
    raw = stored(store, body({"flinkVersion": "2.2"}, labels={"team": "a"}))
    del raw["metadata"]["labels"]
    raw["metadata"]["annotations"]["note"] = "new"
    live = kopf.Body(cast(kopf.RawBody, raw))
    old = store.fetch(body=live)
    new = store.build(body=live)
    assert old is not None
    assert "labels" in old["metadata"]
    assert "labels" not in new["metadata"]
    assert "annotations" not in old["metadata"]
    assert new["metadata"]["annotations"] == {"note": "new"}


def test_the_stored_base_stays_small_however_large_the_spec() -> None:
    store = storage()
    spec = {"flinkConfiguration": {f"key{index}": "v" * 1000 for index in range(200)}}
    raw = stored(store, body(spec))
    assert len(raw["metadata"]["annotations"][KEY]) < 300
    assert store.fetch(body=kopf.Body(cast(kopf.RawBody, raw))) == store.build(
        body=kopf.Body(cast(kopf.RawBody, raw))
    )


def test_a_full_essence_stored_by_an_earlier_version_is_still_read() -> None:
    essence = {"spec": {"flinkVersion": "2.1"}}
    raw = body({"flinkVersion": "2.2"}, annotations={KEY: json.dumps(essence)})
    assert storage().fetch(body=kopf.Body(cast(kopf.RawBody, raw))) == essence
