"""A standalone Flink cluster (one JobManager, one TaskManager) on loopback, started from a config file.

What: ``FlinkCluster(distribution, "config.yaml", text)`` is a context manager. Entering it writes a
private conf directory (the distribution's log4j and logback files, then ``text`` under the given
file name with this module's network and directory settings appended), starts
``bin/jobmanager.sh start-foreground`` and ``bin/taskmanager.sh start-foreground`` as child processes
of their own sessions, and waits until the REST API lists the TaskManager. ``task_manager()`` then
returns what the TaskManager says about itself: the REST API's ``/taskmanagers/<id>`` document and
the command line of its JVM, read from ``/proc``. Leaving it stops both process groups and checks
that nothing of either session survived.

Why the scripts: ``bin/taskmanager.sh`` runs Flink's own ``BashJavaUtils`` on the config file to
compute the JVM's ``-Xmx``/``-Xms``/``-XX:`` flags and the ``-D`` options that pin the memory layout,
exactly as a TaskManager container does. Nothing of that is reimplemented here.

What is added to the config file, and why none of it sizes TaskManager memory: every port is a free
one (or 0, an ephemeral one) on 127.0.0.1, so parallel runs and other services do not collide; the
temporary directories are private; the JobManager gets Flink's shipped process size (the file sizes
only the TaskManager); the JVM options are the shipped ``env.java.opts.all`` (the ``--add-opens`` a
Java 17 JVM needs). An added key that the file already sets, or any ``taskmanager.memory.`` key, is
refused rather than silently overriding the file under test.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import yaml

from tests.e2e.flink.distribution import FlinkDistribution

__all__ = [
    "TASK_MANAGER_CLASS",
    "ClusterError",
    "FlinkCluster",
    "TaskManagerView",
    "flink_processes",
    "parse_config_file",
]

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
POLL_INTERVAL = 0.2
LOG_TAIL_LINES = 40
TASK_MANAGER_CLASS = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner"
JOB_MANAGER_CLASS = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"
LOOPBACK = "127.0.0.1"
JVM_MEMORY_FLAGS = ("-Xmx", "-Xms", "-XX:MaxDirectMemorySize=", "-XX:MaxMetaspaceSize=")
"""The JVM options Flink's scripts derive from the TaskManager memory layout, by prefix."""
SHIPPED_KEYS = ("env.java.opts.all", "jobmanager.memory.process.size")
"""Options copied from the distribution's shipped config file (neither sizes TaskManager memory)."""
_SUPPORT_FILES = ("log4j*.properties", "logback*.xml")
_FORBIDDEN_PREFIX = "taskmanager.memory."
T = TypeVar("T")


class ClusterError(RuntimeError):
    """The cluster could not be started, queried or stopped; the message carries the Flink logs."""


@dataclass(frozen=True, slots=True)
class TaskManagerView:
    """What a running TaskManager reports: its REST document and its JVM's command line."""

    id: str
    rest: dict[str, Any]
    """``GET /taskmanagers/<id>``: ``memoryConfiguration``, ``slotsNumber``, ``hardware``, ..."""
    command_line: list[str]
    """The JVM's argv, from ``/proc/<pid>/cmdline``."""
    startup_seconds: float
    """From starting the scripts to the REST API listing the TaskManager."""

    @property
    def memory_configuration(self) -> dict[str, int]:
        configuration: dict[str, int] = self.rest["memoryConfiguration"]
        return configuration

    @property
    def jvm_memory_flags(self) -> dict[str, list[str]]:
        """Each memory flag's values in command-line order (the JVM takes the last), by flag prefix."""
        options = self.command_line[: self.command_line.index(TASK_MANAGER_CLASS)]
        return {
            prefix: [option.removeprefix(prefix) for option in options if option.startswith(prefix)]
            for prefix in JVM_MEMORY_FLAGS
        }

    @property
    def dynamic_options(self) -> list[tuple[str, str]]:
        """The ``-D key=value`` program arguments ``taskmanager.sh`` passed, in order."""
        arguments = self.command_line[self.command_line.index(TASK_MANAGER_CLASS) + 1 :]
        pairs = [arguments[index + 1] for index, argument in enumerate(arguments[:-1]) if argument == "-D"]
        return [(key, value) for key, _, value in (pair.partition("=") for pair in pairs)]


@dataclass
class _Service:
    name: str
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)


class FlinkCluster:
    """One JobManager and one TaskManager for a config file, on loopback; a context manager."""

    def __init__(
        self,
        distribution: FlinkDistribution,
        file_name: str,
        text: str,
        *,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        if file_name not in distribution.config_file_names:
            raise ClusterError(
                f"Flink {distribution.version} reads {' or '.join(distribution.config_file_names)}, "
                f"not {file_name}"
            )
        self.distribution = distribution
        self.file_name = file_name
        self.text = text
        self.startup_timeout = startup_timeout
        self.rest_port = 0
        self.session_ids: list[int] = []
        self._services: list[_Service] = []
        self._workdir: Path | None = None

    # ---------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> Self:
        self._workdir = Path(tempfile.mkdtemp(prefix=f"flink-{self.distribution.version}-"))
        try:
            conf_dir = self._write_conf_dir()
            environment = self._environment(conf_dir)
            home = self.distribution.home
            self._start("jobmanager", [str(home / "bin" / "jobmanager.sh"), "start-foreground"], environment)
            self._start(
                "taskmanager", [str(home / "bin" / "taskmanager.sh"), "start-foreground"], environment
            )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None

    def stop(self) -> None:
        """Terminates both process groups (SIGTERM, then SIGKILL), reaps them, checks nothing is left."""
        for signum in (signal.SIGTERM, signal.SIGKILL):
            for service in reversed(self._services):
                _signal_group(service.process.pid, signum)
            if self._stopped_within(STOP_TIMEOUT):
                break
        for service in self._services:
            service.process.wait(timeout=STOP_TIMEOUT)
        self._services.clear()
        if left := self._leftovers():
            raise ClusterError(f"processes of the Flink cluster survived it: {left}")

    def _stopped_within(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while any(service.process.poll() is None for service in self._services) or self._leftovers():
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_INTERVAL)
        return True

    def _leftovers(self) -> dict[int, str]:
        return {pid: line for pid, (session, line) in _processes().items() if session in self.session_ids}

    # ---------------------------------------------------------------------------------- queries

    def task_manager(self) -> TaskManagerView:
        """Waits for the TaskManager to register, then reads its REST document and its JVM's argv."""
        task_manager = next(service for service in self._services if service.name == "taskmanager")
        listed = self._wait_for(
            # Registered first, slots reported a moment later: wait for both.
            lambda: (
                [
                    entry
                    for entry in self._rest("/taskmanagers", missing={}).get("taskmanagers") or []
                    if entry.get("slotsNumber", 0) > 0
                ]
                or None
            ),
            "the TaskManager to register with its slots",
        )
        if len(listed) != 1:
            raise ClusterError(f"expected one TaskManager, the REST API lists {listed}")
        startup = time.monotonic() - self._services[0].started
        identifier: str = listed[0]["id"]
        document = self._rest(f"/taskmanagers/{identifier}")
        [pid] = self._wait_for(
            lambda: (
                [
                    pid
                    for pid, (session, _) in _processes().items()
                    if session == task_manager.process.pid and TASK_MANAGER_CLASS in _command_line(pid)
                ]
                or None
            ),
            "the TaskManager JVM",
        )
        return TaskManagerView(
            id=identifier, rest=document, command_line=_command_line(pid), startup_seconds=startup
        )

    def _rest(self, path: str, *, missing: dict[str, Any] | None = None) -> dict[str, Any]:
        """``GET path`` of the REST API; ``missing`` if it does not answer (given), else an error."""
        url = f"http://{LOOPBACK}:{self.rest_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5.0) as response:
                document: dict[str, Any] = json.load(response)
                return document
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            if missing is not None:
                return missing
            raise ClusterError(f"GET {url} failed: {error}\n{self.log_tails()}") from error

    def _wait_for(self, probe: Callable[[], T | None], what: str) -> T:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            for service in self._services:
                if service.process.poll() is not None:
                    raise ClusterError(
                        f"the {service.name} exited with {service.process.returncode} while waiting for "
                        f"{what}\n{self.log_tails()}"
                    )
            result = probe()
            if result:
                return result
            time.sleep(POLL_INTERVAL)
        raise ClusterError(f"{what} did not happen within {self.startup_timeout} s\n{self.log_tails()}")

    def log_tails(self) -> str:
        """The last lines of every log and console file of the cluster, for an error message."""
        if self._workdir is None:
            return ""
        parts = []
        for path in sorted((self._workdir / "log").glob("*")):
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:]
            parts.append(f"==> {path.name} <==\n" + "\n".join(lines))
        return "\n".join(parts)

    # ---------------------------------------------------------------------------------- setup

    def _write_conf_dir(self) -> Path:
        assert self._workdir is not None
        conf_dir = self._workdir / "conf"
        conf_dir.mkdir()
        for pattern in _SUPPORT_FILES:
            for source in self.distribution.conf_dir.glob(pattern):
                shutil.copy2(source, conf_dir / source.name)
        for directory in ("log", "tmp", "pid"):
            (self._workdir / directory).mkdir()
        legacy = self.file_name == "flink-conf.yaml"
        given = parse_config_file(self.text, legacy=legacy)
        added = self._added_options()
        clashes = sorted(set(added) & set(given))
        if clashes:
            raise ClusterError(f"the config file sets {clashes}, which the test cluster must set itself")
        if any(key.startswith(_FORBIDDEN_PREFIX) for key in added):
            raise ClusterError("the test cluster must not set TaskManager memory options")
        (conf_dir / self.file_name).write_text(
            self.text.rstrip("\n") + "\n" + _render_options(added, legacy=legacy), encoding="utf-8"
        )
        return conf_dir

    def _added_options(self) -> dict[str, str]:
        assert self._workdir is not None
        shipped = _shipped_options(self.distribution)
        self.rest_port, rpc_port, blob_port = _free_ports(3)
        tmp = str(self._workdir / "tmp")
        return {
            **{key: shipped[key] for key in SHIPPED_KEYS if key in shipped},
            "jobmanager.rpc.address": LOOPBACK,
            "jobmanager.rpc.port": str(rpc_port),
            "jobmanager.bind-host": LOOPBACK,
            "taskmanager.host": LOOPBACK,
            "taskmanager.bind-host": LOOPBACK,
            "taskmanager.rpc.port": "0",
            "taskmanager.data.port": "0",
            "rest.address": LOOPBACK,
            "rest.bind-address": LOOPBACK,
            "rest.port": str(self.rest_port),
            "blob.server.port": str(blob_port),
            "metrics.internal.query-service.port": "0",
            # The TaskManager starts alongside the JobManager; retry reaching it every 0.5 s, not 10 s.
            "cluster.registration.error-delay": "500",
            "io.tmp.dirs": tmp,
            "web.tmpdir": tmp,
        }

    def _environment(self, conf_dir: Path) -> dict[str, str]:
        assert self._workdir is not None
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("FLINK_", "_FLINK", "HADOOP_", "JVM_ARGS", "PYFLINK"))
        }
        return {
            **inherited,
            "FLINK_CONF_DIR": str(conf_dir),
            "FLINK_LOG_DIR": str(self._workdir / "log"),
            "FLINK_PID_DIR": str(self._workdir / "pid"),
        }

    def _start(self, name: str, command: list[str], environment: Mapping[str, str]) -> None:
        assert self._workdir is not None
        console = self._workdir / "log" / f"{name}.console"
        with console.open("wb") as output:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=dict(environment),
                cwd=self._workdir,
                start_new_session=True,
            )
        self._services.append(_Service(name=name, process=process))
        self.session_ids.append(process.pid)


def parse_config_file(text: str, *, legacy: bool) -> dict[str, str]:
    """A Flink config file's options as flat keys: standard YAML, or 1.x's ``key: value`` lines."""
    if not legacy:
        document = yaml.safe_load(text) or {}
        return dict(_flatten(document))
    options = {}
    for line in text.splitlines():
        content = line.split("#", 1)[0].strip()
        key, separator, value = content.partition(": ")
        if separator:
            options[key.strip()] = value.strip()
    return options


def flink_processes(home: Path) -> dict[int, str]:
    """Every process whose command line mentions ``home`` (a Flink home): ``{pid: command line}``."""
    marker = str(home)
    return {pid: line for pid, (_, line) in _processes().items() if marker in line}


# -------------------------------------------------------------------------------------- helpers


def _flatten(document: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in document.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", str(value)


def _shipped_options(distribution: FlinkDistribution) -> dict[str, str]:
    for name in distribution.config_file_names:
        path = distribution.conf_dir / name
        if path.is_file():
            return parse_config_file(path.read_text(encoding="utf-8"), legacy=name == "flink-conf.yaml")
    return {}


def _render_options(options: Mapping[str, str], *, legacy: bool) -> str:
    lines = ["# Added by the e2e test cluster: loopback, free ports, private directories."]
    for key, value in options.items():
        if legacy:
            lines.append(f"{key}: {value}")
        else:
            lines.append(yaml.safe_dump({key: value}, default_flow_style=False, width=2**31 - 1).rstrip("\n"))
    return "\n".join(lines) + "\n"


def _free_ports(count: int) -> list[int]:
    """Ports free on loopback right now (held together while chosen, so they differ)."""
    with contextlib.ExitStack() as stack:
        sockets = [
            stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)
        ]
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        return [sock.getsockname()[1] for sock in sockets]


def _processes() -> dict[int, tuple[int, str]]:
    """Every live (not zombie) process: ``{pid: (session id, command line)}``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            stat = (entry / "stat").read_text(encoding="utf-8", errors="replace")
            line = " ".join(_command_line(pid))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        # /proc/<pid>/stat: "pid (comm) state ppid pgrp session ..."; comm may hold spaces or parens.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            found[pid] = (int(fields[3]), line)
    return found


def _command_line(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return [part.decode("utf-8", errors="replace") for part in raw.split(b"\0") if part]


def _signal_group(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)
