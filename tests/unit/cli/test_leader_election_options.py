"""``flink-tm-memory run --leader-election``: the Lease's options, their defaults and the usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from flink_tm_memory.cli.arguments import parse_arguments
from flink_tm_memory.cli.errors import UsageError
from flink_tm_memory.cli.run import operator_options
from flink_tm_memory.runtime.options import LeaderElectionOptions


def test_no_election_unless_asked() -> None:
    assert operator_options(parse_arguments(["run"])).leader_election is None


def test_the_pod_name_and_namespace_from_the_downward_api_are_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POD_NAME", "operator-7f9c-abcde")
    monkeypatch.setenv("POD_NAMESPACE", "flink-tm-memory")
    options = operator_options(parse_arguments(["run", "--leader-election"])).leader_election
    assert options == LeaderElectionOptions(
        namespace="flink-tm-memory",
        identity="operator-7f9c-abcde",
        name="flink-tm-memory-operator",
        lease_duration=15.0,
        renew_deadline=10.0,
        retry_period=2.0,
    )


def test_without_a_pod_name_the_identity_is_the_host_name_and_a_random_suffix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POD_NAME", raising=False)
    arguments = parse_arguments(["run", "--leader-election", "--leader-election-namespace", "ops"])
    first = operator_options(arguments).leader_election
    second = operator_options(arguments).leader_election
    assert first is not None
    assert second is not None
    assert first.identity != second.identity  # two processes on one host never share an identity
    assert first.identity.rpartition("_")[0] == second.identity.rpartition("_")[0]


def test_every_option_reaches_the_election() -> None:
    arguments = parse_arguments(
        [
            "run",
            "--leader-election",
            "--leader-election-namespace=ops",
            "--leader-election-lease=my-lease",
            "--leader-election-identity=replica-1",
            "--lease-duration=30",
            "--renew-deadline=20",
            "--retry-period=5",
        ]
    )
    assert operator_options(arguments).leader_election == LeaderElectionOptions(
        namespace="ops",
        identity="replica-1",
        name="my-lease",
        lease_duration=30.0,
        renew_deadline=20.0,
        retry_period=5.0,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--leader-election-namespace=ops"], "--leader-election-namespace needs --leader-election"),
        (
            ["--leader-election", "--leader-election-namespace=ops", "--lease-duration=10"],
            "--lease-duration (10 s) must be longer than --renew-deadline (10 s)",
        ),
        (
            ["--leader-election", "--leader-election-namespace=ops", "--retry-period=12"],
            "--renew-deadline (10 s) must be longer than --retry-period (12 s)",
        ),
    ],
)
def test_misuse_is_a_usage_error_naming_the_flag(args: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        operator_options(parse_arguments(["run", *args]))


def test_outside_a_pod_the_namespace_must_be_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    monkeypatch.setattr("flink_tm_memory.cli.run.SERVICE_ACCOUNT_NAMESPACE", tmp_path / "absent")
    with pytest.raises(UsageError, match="--leader-election needs --leader-election-namespace outside a pod"):
        operator_options(parse_arguments(["run", "--leader-election"]))
