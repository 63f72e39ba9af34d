"""A real Kubernetes control plane for the end-to-end tests.

What: build and run etcd + kube-apiserver + kube-controller-manager (one process, the Go program in
``tests/e2e/controlplane/``), plus kubectl and helm built from the same pinned Go modules, and drive
them from Python.

Why: the e2e tests must exercise the operator against the real API machinery (RBAC, admission
webhooks, CRD structural schemas, garbage collection, service-account tokens), not an emulator, yet
no kube-apiserver binary can be downloaded here. Everything is therefore compiled from the published
Kubernetes Go modules with only the Go module proxy; ``build.sh`` relies on Go's caches so only the
first build is slow. Alone it has no scheduler or kubelet (Pods are created but stay Pending);
``tests/e2e/node/`` adds a real node beside it (``make cluster``).

Only the standard library is used, so this module works before the project's virtualenv exists.
``python tests/e2e/controlplane.py [WORKDIR]`` builds the tools, starts a node-less control plane and
keeps it up until Ctrl-C.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import dataclasses
import functools
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

__all__ = [
    "CommandError",
    "ControlPlane",
    "ControlPlaneError",
    "ToolBuildError",
    "ToolPaths",
    "build_tools",
    "start_control_plane",
]

SOURCE_DIR = Path(__file__).resolve().parent / "controlplane"
"""The Go module that builds the tools (``build.sh``, ``go.mod``, the control-plane program)."""

LOG_FILE_NAME = "controlplane.log"
_LOG_TAIL_CHARS = 6000


class ToolBuildError(RuntimeError):
    """``build.sh`` failed; the message carries its output."""


class ControlPlaneError(RuntimeError):
    """The control plane did not start (or died); the message carries the tail of its log."""


class CommandError(subprocess.CalledProcessError):
    """A kubectl or helm command failed; unlike its base class, ``str()`` shows stdout and stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}\nstdout:\n{self.stdout or ''}\nstderr:\n{self.stderr or ''}"


@dataclass(frozen=True, slots=True)
class ToolPaths:
    """Absolute paths of the built binaries."""

    controlplane: Path
    kubectl: Path
    helm: Path
    kubelet: Path
    scheduler: Path
    criclean: Path


def build_tools(repo_root: Path, out_dir: Path | None = None) -> ToolPaths:
    """Build controlplane, kubectl and helm (fast when Go's caches are warm) and return their paths.

    The binaries go to ``out_dir`` (default ``<repo_root>/.tools/e2e/bin``).
    """
    out = (out_dir or repo_root / ".tools" / "e2e" / "bin").resolve()
    script = repo_root / "tests" / "e2e" / "controlplane" / "build.sh"
    try:
        result = subprocess.run(["bash", str(script), str(out)], capture_output=True, text=True, check=False)
    except OSError as error:
        raise ToolBuildError(f"cannot run {script}: {error}") from error
    if result.returncode != 0:
        raise ToolBuildError(
            f"{script} failed with exit code {result.returncode} (is Go >= 1.26 on PATH and the Go module "
            f"proxy reachable?)\n{result.stdout}{result.stderr}"
        )
    tools = ToolPaths(
        controlplane=out / "controlplane",
        kubectl=out / "kubectl",
        helm=out / "helm",
        kubelet=out / "kubelet",
        scheduler=out / "kube-scheduler",
        criclean=out / "criclean",
    )
    missing = [str(path) for path in dataclasses.astuple(tools) if not Path(path).is_file()]
    if missing:
        raise ToolBuildError(f"{script} succeeded but did not produce {', '.join(missing)}\n{result.stderr}")
    return tools


class ControlPlane:
    """A running control plane: its address, admin kubeconfig, and kubectl/helm bound to it.

    Use as a context manager or call :meth:`stop`. The process is also stopped when Python exits
    (``atexit``), and it stops itself if its parent dies (``--exit-with-parent``).
    """

    def __init__(
        self,
        *,
        process: subprocess.Popen[str],
        tools: ToolPaths,
        workdir: Path,
        log_path: Path,
        log_file: IO[str],
        ready: Mapping[str, Any],
    ) -> None:
        self.tools = tools
        self.workdir = workdir
        self.log_path = log_path
        self.ready = dict(ready)
        """The ready line printed by the control plane (server, kubeconfig, timings, version...)."""
        self.server: str = str(ready["server"])
        self.kubeconfig = Path(str(ready["kubeconfig"]))
        self._process = process
        self._log_file = log_file
        self._lock = threading.Lock()
        # helm must not read or write the user's ~/.config/helm, ~/.cache/helm...
        helm_home = workdir / "helm"
        self.env: dict[str, str] = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "HELM_CACHE_HOME": str(helm_home / "cache"),
            "HELM_CONFIG_HOME": str(helm_home / "config"),
            "HELM_DATA_HOME": str(helm_home / "data"),
        }
        """Environment for subprocesses that should talk to this cluster."""

    @property
    def pid(self) -> int:
        return self._process.pid

    def running(self) -> bool:
        return self._process.poll() is None

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run the built kubectl against this cluster (as cluster-admin unless ``--as`` is given)."""
        return self._run(self.tools.kubectl, args, input=input, check=check, timeout=timeout)

    def helm(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run the built helm against this cluster."""
        return self._run(self.tools.helm, args, input=input, check=check, timeout=timeout)

    def _run(
        self, tool: Path, args: Sequence[str], *, input: str | None, check: bool, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        command = [str(tool), *args]
        result = subprocess.run(
            command,
            input=input,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise CommandError(result.returncode, command, result.stdout, result.stderr)
        return result

    def use_server(self, server: str) -> None:
        """Reach the API server at ``server`` from now on (e.g. a forwarder into its namespace).

        Writes ``kubeconfig-host`` beside the admin kubeconfig, with only the server changed, and
        points :attr:`kubeconfig`, :attr:`server` and :attr:`env` at it.
        """
        config = json.loads(
            self._run(
                self.tools.kubectl,
                ("config", "view", "--raw", "-o", "json"),
                input=None,
                check=True,
                timeout=30,
            ).stdout
        )
        for cluster in config["clusters"]:
            cluster["cluster"]["server"] = server
        host_kubeconfig = self.workdir / "kubeconfig-host"
        host_kubeconfig.write_text(json.dumps(config), encoding="utf-8")
        host_kubeconfig.chmod(0o600)
        self.server = server
        self.kubeconfig = host_kubeconfig
        self.env["KUBECONFIG"] = str(host_kubeconfig)

    def log_tail(self, chars: int = _LOG_TAIL_CHARS) -> str:
        return _tail(self.log_path, chars)

    def wait(self, timeout: float | None = None) -> int:
        """Block until the control plane exits; returns its exit code."""
        return self._process.wait(timeout)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (clean shutdown of controllers, apiserver, etcd), then SIGKILL after ``timeout``."""
        with self._lock:
            atexit.unregister(self.stop)
            if self._process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self._process.send_signal(signal.SIGTERM)
                try:
                    self._process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._log_file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_control_plane(
    tools: ToolPaths,
    workdir: Path,
    timeout: float = 120,
    extra_args: Sequence[str] = (),
    command_prefix: Sequence[str] = (),
) -> ControlPlane:
    """Start the control plane with its state in ``workdir`` and return once it is ready.

    "Ready" means the apiserver's ``/readyz`` is ok and the controller manager has created the
    ``default`` ServiceAccount. The (chatty) logs go to ``workdir/controlplane.log``. ``extra_args``
    are passed to the binary, e.g. ``["--apiserver-arg=--v=4"]``; ``command_prefix`` runs it through
    another command (``nsenter --net=...``, which execs it). ``workdir``'s ``pki/`` and ``etcd/``
    are recreated: every start is a fresh cluster.
    """
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / LOG_FILE_NAME
    log_file = log_path.open("w", encoding="utf-8")
    try:
        process = subprocess.Popen(
            [
                *command_prefix,
                str(tools.controlplane),
                f"--workdir={workdir}",
                "--exit-with-parent",
                *extra_args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
            # Own process group: a Ctrl-C in the terminal reaches Python only, which then stops the
            # control plane in order instead of racing it.
            start_new_session=True,
        )
    except OSError:
        log_file.close()
        raise
    kill = functools.partial(_kill_quietly, process)
    atexit.register(kill)
    try:
        ready = _wait_ready(process, log_path, timeout)
    except BaseException:
        kill()
        log_file.close()
        raise
    finally:
        atexit.unregister(kill)
    control_plane = ControlPlane(
        process=process, tools=tools, workdir=workdir, log_path=log_path, log_file=log_file, ready=ready
    )
    atexit.register(control_plane.stop)
    return control_plane


def _wait_ready(process: subprocess.Popen[str], log_path: Path, timeout: float) -> dict[str, Any]:
    """Wait for the ready JSON line on the process's stdout."""
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump(stream: IO[str]) -> None:
        # Keeps draining stdout for the process's whole life so it can never block on a full pipe.
        with contextlib.suppress(ValueError, OSError):
            for line in stream:
                lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, args=(process.stdout,), name="controlplane-stdout", daemon=True).start()
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ControlPlaneError(
                f"control plane not ready after {timeout:.0f}s; log tail:\n{_tail(log_path, _LOG_TAIL_CHARS)}"
            )
        try:
            line = lines.get(timeout=min(remaining, 1.0))
        except queue.Empty:
            continue
        if line is None:
            code = process.wait()
            raise ControlPlaneError(
                f"control plane exited with code {code} before it was ready; log tail:\n"
                f"{_tail(log_path, _LOG_TAIL_CHARS)}"
            )
        with contextlib.suppress(json.JSONDecodeError):
            message = json.loads(line)
            if isinstance(message, dict) and message.get("ready") is True:
                return message


def _tail(path: Path, chars: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text[-chars:]


def _kill_quietly(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    repo_root = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(
        description="Build the e2e tools and run a local Kubernetes control plane until Ctrl-C."
    )
    parser.add_argument(
        "workdir",
        nargs="?",
        type=Path,
        default=repo_root / ".tools" / "e2e" / "cluster",
        help="state directory (certificates, etcd data, kubeconfig, log); default: .tools/e2e/cluster",
    )
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for readiness")
    options = parser.parse_args(argv)

    print("building controlplane, kubectl and helm (the first build takes minutes)...", file=sys.stderr)
    tools = build_tools(repo_root)
    print("starting the control plane...", file=sys.stderr)
    # Ctrl-C must work even if SIGINT was inherited as ignored (background jobs), and SIGTERM (e.g.
    # from make or a CI runner) must stop the cluster cleanly too.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(128 + signal.SIGTERM))
    with start_control_plane(tools, options.workdir, timeout=options.timeout) as cluster:
        print(
            f"Kubernetes {cluster.ready.get('kubernetes_version', '')} control plane ready at {cluster.server} "
            f"in {cluster.ready.get('cluster_ready_s', '?')}s (no nodes: Pods stay Pending)\n\n"
            f"  export KUBECONFIG={cluster.kubeconfig}\n"
            f'  export PATH="{tools.kubectl.parent}:$PATH"   # kubectl: {tools.kubectl}, helm: {tools.helm}\n\n'
            f"logs: {cluster.log_path}\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        try:
            code = cluster.wait()
        except KeyboardInterrupt:
            print("\nstopping...", file=sys.stderr)
            return 0
        print(f"control plane exited with code {code}; log tail:\n{cluster.log_tail()}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
