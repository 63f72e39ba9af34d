"""The log redactor masks the value after every key Flink deems sensitive, in every shape kopf logs."""

from __future__ import annotations

import json
import logging

import pytest

from flink_tm_memory.runtime.redaction import MASK, SecretRedactor, redact

SECRETS = {
    "s3.secret-key": "hunter2",
    "fs.azure.account.key.acct.blob.core.windows.net": "azk3y==",
    "my.PASSWORD": "p'w\"d,}x",
    "some.token": 12345,
    "a.jaas.config": "x y z",
}
PLAIN = {"taskmanager.memory.process.size": "2g", "s3.endpoint": "http://minio:9000"}
CONFIGURATION = {**SECRETS, **PLAIN}


def annotation() -> str:
    return json.dumps({"generation": 1, "spec": {"flinkConfiguration": CONFIGURATION}}, separators=(",", ":"))


SHAPES = {
    "a mapping": repr(CONFIGURATION),
    "JSON": json.dumps(CONFIGURATION),
    "JSON in an annotation of a patch": repr({"metadata": {"annotations": {"x": annotation()}}}),
    "a repr of that repr": repr(repr({"metadata": {"annotations": {"x": annotation()}}})),
    "kopf's diff": repr(
        tuple(
            ("change", ("spec", "flinkConfiguration", key), value, value)
            for key, value in CONFIGURATION.items()
        )
    ),
}


@pytest.mark.parametrize("text", SHAPES.values(), ids=SHAPES.keys())
def test_every_sensitive_value_is_masked_and_nothing_else(text: str) -> None:
    redacted = redact(text)

    for value in SECRETS.values():
        assert str(value) not in redacted
    for key, value in PLAIN.items():
        assert key in redacted
        assert value in redacted
    assert redacted.count(MASK) >= len(SECRETS)


def test_a_message_without_a_sensitive_key_is_left_as_it_is() -> None:
    text = "Merge-patching the resource with: {'metadata': {'annotations': {'a': 'secretive value'}}}"

    assert redact(text) == text


def test_the_filter_masks_a_record_formatted_with_arguments() -> None:
    record = logging.LogRecord(
        "kopf.objects", logging.DEBUG, __file__, 1, "patch: %r", ({"s3.secret-key": "x1"},), None
    )

    assert SecretRedactor().filter(record)
    assert record.getMessage() == f"patch: {{'s3.secret-key': {MASK!r}}}"
