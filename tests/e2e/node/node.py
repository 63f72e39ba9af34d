"""The node of the e2e cluster: containerd, a kubelet and a kube-scheduler, inside the cluster's
network namespace, and their complete removal.

What: ``Node.start(...)`` writes the configurations under its work directory, starts containerd
(Debian's package, with runc), imports the locally built images into its ``k8s.io`` namespace,
starts the kube-scheduler and the kubelet (built from the pinned Kubernetes modules, see
``tests/e2e/controlplane/build.sh``) and waits until the node is Ready. ``stop()`` undoes all of
it: it removes every pod sandbox through the CRI (``criclean``: CNI networks, namespace mounts,
shims), stops the daemons, unmounts whatever is still mounted under the work directory and removes
the cgroups the kubelet made.

Why these settings (each was needed on this machine kind, see ``shared/design/real-node.md``):

* containerd: ``restrict_oom_score_adj`` (the VM refuses any lowering of ``oom_score_adj``); its
  root, state, sockets and the CNI configuration are private, so a developer's other containerd, or
  a second cluster, is never touched; the pause image is a local one (no registry is reachable).
* kubelet: cgroup v1 is accepted (``failCgroupV1: false``); pods live under a cgroup root of this
  node's own, so two clusters never share ``kubepods``; anonymous access is off and only the API
  server's client certificate is trusted; eviction thresholds are tiny and image garbage collection
  is off, so a busy developer machine does not evict the operator or delete the imported images;
  pods get a ``resolv.conf`` naming only loopback, so nothing in the cluster asks a DNS server
  outside the namespace.
* CNI: Debian's bridge and host-local plugins give pods addresses on a bridge inside the namespace
  (no masquerading, no iptables); ``hostNetwork`` pods share the node's address.

Only the standard library is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tests.e2e.node.images import PAUSE_REFERENCE
from tests.e2e.node.netns import NetworkNamespace, exit_with_parent

__all__ = ["NODE_NAME", "Node", "NodeError", "NodeTools"]

NODE_NAME = "e2e-node"
CNI_BIN_DIR = Path("/usr/lib/cni")
"""Debian's ``containernetworking-plugins``."""
CGROUP_ROOT = Path("/sys/fs/cgroup")
FIXED_DIRS = (
    Path("/var/lib/kubelet"),  # device-plugins/kubelet.sock
    Path("/var/log/containers"),  # symlinks to the pods' logs
    Path("/run/containerd"),  # the shims' sockets (s/) and runc's state (runc/)
    Path("/run/netns"),  # the pods' network namespaces, bind-mounted by containerd
    Path("/var/lib/cni"),  # libcni's cache of results
)
"""Directories the kubelet, containerd and CNI make whatever they are told; removed again if this node
made them, holding nothing but directories, sockets and symlinks (a file there is reported, kept)."""
STOP_TIMEOUT = 30.0
_LOG_TAIL_CHARS = 4000


class NodeError(RuntimeError):
    """A daemon of the node did not start or died; the message carries the tail of its log."""


@dataclass(frozen=True, slots=True)
class NodeTools:
    """The binaries the node runs besides Debian's containerd and runc."""

    kubelet: Path
    scheduler: Path
    criclean: Path


@dataclass
class _Daemon:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    def tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-_LOG_TAIL_CHARS:]
        return ""

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


class Node:
    """A running node; see the module docstring."""

    def __init__(self, namespace: NetworkNamespace, workdir: Path, tools: NodeTools) -> None:
        self.namespace = namespace
        self.workdir = workdir
        self.tools = tools
        self.cgroup_root = f"/flink-tm-memory-e2e/{workdir.name}-{os.getpid()}"
        """The kubelet's ``cgroupRoot``: every pod's cgroup is below it, in each v1 hierarchy."""
        self.containerd_socket = workdir / "containerd" / "containerd.sock"
        self._daemons: list[_Daemon] = []
        self._made_dirs = [path for path in FIXED_DIRS if not path.exists()]

    @property
    def cri_endpoint(self) -> str:
        return f"unix://{self.containerd_socket}"

    # ------------------------------------------------------------------------------------ start

    def start_containerd(self) -> None:
        directory = self.workdir / "containerd"
        for sub in ("state", "cni/net.d", "cni/ipam", "opt"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        (directory / "root").mkdir(parents=True, exist_ok=True)
        config = directory / "config.toml"
        config.write_text(self._containerd_config(directory), encoding="utf-8")
        (directory / "cni" / "net.d" / "10-e2e.conflist").write_text(
            self._cni_config(directory), encoding="utf-8"
        )
        self._start("containerd", ["containerd", "--config", str(config)])
        self._wait(self.containerd_socket.is_socket, "containerd's socket", 30)

    def _containerd_config(self, directory: Path) -> str:
        return f"""version = 2
root = "{directory / "root"}"
state = "{directory / "state"}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{self.containerd_socket}"

[ttrpc]
  address = "{self.containerd_socket}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{directory / "opt"}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_REFERENCE}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{directory / "cni" / "net.d"}"
"""

    def _cni_config(self, directory: Path) -> str:
        addresses = self.namespace.addresses
        return json.dumps(
            {
                "cniVersion": "0.4.0",
                "name": "e2e",
                "plugins": [
                    {
                        "type": "bridge",
                        "bridge": "cni0",
                        "isGateway": True,
                        "ipMasq": False,
                        "hairpinMode": True,
                        "ipam": {
                            "type": "host-local",
                            "ranges": [[{"subnet": addresses.pod_cidr}]],
                            "routes": [{"dst": "0.0.0.0/0"}],
                            "dataDir": str(directory / "cni" / "ipam"),
                        },
                    }
                ],
            },
            indent=2,
        )

    def import_images(
        self,
        archives: Sequence[Path],
        aliases: Mapping[str, str] | None = None,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        """Import ``docker save`` archives into the ``k8s.io`` namespace; ``aliases`` adds tags (``ctr images
        tag SOURCE TARGET``), e.g. the chart's default image for the one built here."""
        for archive in archives:
            started = time.monotonic()
            self._ctr("images", "import", str(archive))
            log(f"imported {archive.name} in {time.monotonic() - started:.1f} s")
        for source, target in (aliases or {}).items():
            self._ctr("images", "tag", "--force", source, target)

    def _ctr(self, *args: str) -> None:
        """``ctr`` on this node's containerd, in its ``k8s.io`` namespace (the kubelet's)."""
        command = ["ctr", "--address", str(self.containerd_socket), "-n", "k8s.io", *args]
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
        if result.returncode != 0:
            raise NodeError(f"{' '.join(command)} failed: {result.stderr.strip()}")

    def start_scheduler(self, kubeconfig: Path) -> None:
        self._start(
            "kube-scheduler",
            [
                str(self.tools.scheduler),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--secure-port=0",
                "--v=1",
            ],
        )

    def start_kubelet(self, kubeconfig: Path, ca_file: Path) -> None:
        directory = self.workdir / "kubelet"
        directory.mkdir(parents=True, exist_ok=True)
        resolv_conf = directory / "resolv.conf"
        resolv_conf.write_text("nameserver 127.0.0.1\n", encoding="utf-8")
        for hierarchy in _cgroup_hierarchies():
            (hierarchy / self.cgroup_root.lstrip("/")).mkdir(parents=True, exist_ok=True)
        config = directory / "config.yaml"
        config.write_text(self._kubelet_config(directory, ca_file, resolv_conf), encoding="utf-8")
        self._start(
            "kubelet",
            [
                str(self.tools.kubelet),
                f"--config={config}",
                f"--kubeconfig={kubeconfig}",
                f"--root-dir={directory / 'root'}",
                f"--cert-dir={directory / 'pki'}",
                f"--node-ip={self.namespace.addresses.node}",
                f"--hostname-override={NODE_NAME}",
                "--v=1",
            ],
        )

    def _kubelet_config(self, directory: Path, ca_file: Path, resolv_conf: Path) -> str:
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": self.namespace.addresses.node,
            "port": 10250,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": 10248,
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": False},
                "x509": {"clientCAFile": str(ca_file)},
            },
            "authorization": {"mode": "AlwaysAllow"},
            "containerRuntimeEndpoint": self.cri_endpoint,
            "imageServiceEndpoint": self.cri_endpoint,
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": self.cgroup_root,
            "cgroupsPerQOS": True,
            "failCgroupV1": False,
            "failSwapOn": False,
            "resolvConf": str(resolv_conf),
            "podLogsDir": str(directory / "pod-logs"),
            "enforceNodeAllocatable": [],
            "evictionHard": {"memory.available": "1Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "serializeImagePulls": False,
            "registerNode": True,
            "nodeStatusReportFrequency": "10s",
            "syncFrequency": "10s",
            "fileCheckFrequency": "10s",
        }
        return json.dumps(config, indent=2)

    def _start(self, name: str, argv: Sequence[str]) -> None:
        log_path = self.workdir / f"{name}.log"
        log_file = log_path.open("ab")
        try:
            process = subprocess.Popen(
                self.namespace.command(argv),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=exit_with_parent,  # noqa: PLW1509 - a crashed run must not leave daemons
            )
        except OSError:
            log_file.close()
            raise
        self._daemons.append(_Daemon(name, process, log_path, log_file))

    def _wait(self, check: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            for daemon in self._daemons:
                if daemon.process.poll() is not None:
                    raise NodeError(
                        f"{daemon.name} exited with {daemon.process.returncode}:\n{daemon.tail()}"
                    )
            if time.monotonic() > deadline:
                raise NodeError(f"{what} not there after {timeout:.0f} s")
            time.sleep(0.1)

    def check_running(self) -> None:
        """:class:`NodeError` if a daemon died."""
        self._wait(lambda: True, "", 0)

    def log_tail(self, name: str) -> str:
        return next((daemon.tail() for daemon in self._daemons if daemon.name == name), "")

    # ------------------------------------------------------------------------------------- stop

    def clean_sandboxes(self) -> None:
        result = subprocess.run(
            self.namespace.command([str(self.tools.criclean), f"--endpoint={self.cri_endpoint}"]),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            raise NodeError(f"criclean failed: {result.stderr.strip()}")

    def stop(self) -> None:
        """Stop the kubelet and the scheduler, remove every sandbox, stop containerd, clean up."""
        errors: list[str] = []
        by_name = {daemon.name: daemon for daemon in self._daemons}
        for name in ("kubelet", "kube-scheduler"):
            if name in by_name:
                by_name[name].stop()
        if "containerd" in by_name and by_name["containerd"].process.poll() is None:
            try:
                self.clean_sandboxes()
            except (NodeError, subprocess.TimeoutExpired) as error:
                errors.append(str(error))
            by_name["containerd"].stop()
        self._daemons.clear()
        errors += unmount_below(self.workdir)
        errors += self._remove_cgroups()
        errors += self._remove_fixed_dirs()
        if not errors:
            # The image store and the pods' files: gigabytes that no later run reads.
            for directory in ("containerd", "kubelet"):
                remove_tree(self.workdir / directory)
        if errors:
            raise NodeError("the node was not cleaned up completely:\n" + "\n".join(errors))

    def _remove_fixed_dirs(self) -> list[str]:
        """The kubelet's log symlinks into this node, then the fixed directories this node made."""
        with contextlib.suppress(OSError):
            for link in Path("/var/log/containers").iterdir():
                if link.is_symlink() and str(os.readlink(link)).startswith(str(self.workdir)):
                    link.unlink()
        errors: list[str] = []
        for top in self._made_dirs:
            if not top.exists():
                continue
            for directory, _subdirectories, names in os.walk(top, topdown=False):
                for name in names:
                    path = Path(directory) / name
                    if path.is_symlink() or path.is_socket():
                        path.unlink()
                    else:
                        errors.append(f"{path}: left by the node, not removed")
                with contextlib.suppress(OSError):
                    Path(directory).rmdir()
        return errors

    def _remove_cgroups(self) -> list[str]:
        errors: list[str] = []
        for hierarchy in _cgroup_hierarchies():
            top = hierarchy / self.cgroup_root.lstrip("/")
            if not top.exists():
                continue
            # Deepest first: a cgroup can only be removed once it has no children.
            for path in sorted(
                (p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
            ):
                with contextlib.suppress(FileNotFoundError):
                    _rmdir_cgroup(path, errors)
            _rmdir_cgroup(top, errors)
            parent = top.parent
            with contextlib.suppress(OSError):
                parent.rmdir()  # the shared /flink-tm-memory-e2e, once no other cluster uses it
        return errors


def _rmdir_cgroup(path: Path, errors: list[str]) -> None:
    for attempt in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as error:
            if attempt == 49:
                errors.append(f"cgroup {path}: {error}")
            time.sleep(0.1)


def _cgroup_hierarchies() -> list[Path]:
    """The mounted cgroup v1 hierarchies the kubelet makes pod cgroups in."""
    names = (
        "blkio",
        "cpu",
        "cpuacct",
        "cpuset",
        "devices",
        "freezer",
        "hugetlb",
        "memory",
        "pids",
        "systemd",
    )
    return [
        CGROUP_ROOT / name
        for name in names
        if (CGROUP_ROOT / name).is_dir() and not (CGROUP_ROOT / name).is_symlink()
    ]


def unmount_below(directory: Path) -> list[str]:
    """Unmount every mount point under ``directory`` (deepest first); the errors, if any."""
    prefix = str(directory.resolve()) + os.sep
    errors = []
    for mount_point in sorted(_mount_points(), key=len, reverse=True):
        if mount_point.startswith(prefix):
            result = subprocess.run(
                ["umount", "--lazy", mount_point], capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                errors.append(f"umount {mount_point}: {result.stderr.strip()}")
    return errors


def _mount_points() -> list[str]:
    points = []
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            # Spaces and other characters are octal-escaped in /proc/self/mounts.
            points.append(line.split()[1].encode().decode("unicode_escape"))
    return points


def remove_tree(path: Path) -> None:
    """``rm -rf`` that tolerates files of containers (read-only bits) once nothing is mounted."""
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
