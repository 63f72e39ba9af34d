"""A network namespace of the tests' own, in which the whole e2e cluster runs, and the proof that no
packet of that cluster leaves it.

What: ``NetworkNamespace.create()`` starts a holder process in a new network namespace (``unshare
--net``) and sets it up: ``lo`` carries the node's address and the ``kubernetes`` Service's ClusterIP
(so pods reach the API server at its ClusterIP with no kube-proxy), and every other destination is
routed into a veth pair that leads nowhere, through an iptables chain that counts what is sent there.
``command()`` prefixes a command so that it runs inside (``nsenter --net``); ``escaped_packets()``
reads the counters.

Why: the tests may send traffic only to loopback or into namespaces they create. Inside this one
the node, its pods (in namespaces of their own, bridged to this one) and the control plane talk
over real, non-loopback addresses, as in a real cluster, yet no interface leads out of it. An
attempt to reach anything else (a Service ClusterIP nobody routes, a DNS server, the internet) is
not just refused: it is counted, so a test can prove that none happened. The namespace, its
interfaces and its iptables rules vanish with the last process inside; nothing is mounted.

Only the standard library is used.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Addresses", "NamespaceError", "NetworkNamespace", "enter_namespace", "exit_with_parent"]

_CLONE_NEWNET = 0x40000000
_PR_SET_PDEATHSIG = 1
ESCAPE_CHAIN = "FTM-E2E-ESCAPE"
"""The iptables chain (raw table) that counts packets to any address outside the namespace's own."""


class NamespaceError(RuntimeError):
    """The namespace could not be created or set up."""


@dataclass(frozen=True, slots=True)
class Addresses:
    """The addresses that exist only inside the namespace."""

    node: str = "10.211.0.1"
    """The node's InternalIP: the kubelet serves on it, ``hostNetwork`` pods have it."""
    service_cidr: str = "10.96.0.0/12"
    kubernetes_service: str = "10.96.0.1"
    """The ClusterIP of the ``kubernetes`` Service, an address of ``lo`` here."""
    pod_cidr: str = "10.244.0.0/24"
    """Pods' addresses, on the CNI bridge inside the namespace."""

    def inside(self) -> tuple[str, ...]:
        """Every destination that stays inside (the rest is counted as an escape).

        ``224.0.0.0/24`` is link-local multicast, which no router forwards: the kernel sends an IGMP
        report there on the pods' bridge when it gets its address.
        """
        return (
            "127.0.0.0/8",
            f"{self.node}/32",
            f"{self.kubernetes_service}/32",
            self.pod_cidr,
            "224.0.0.0/24",
        )

    def is_inside(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack socket's peer, e.g. ::ffff:10.96.0.1
        if ip.is_loopback:
            return True
        return any(ip in ipaddress.ip_network(network) for network in self.inside())


def exit_with_parent() -> None:
    """For ``preexec_fn``: the child gets SIGKILL when the process that started it dies.

    A crashed test run then leaves no holder or daemon behind. (The signal is tied to the thread
    that forked: start daemons from the main thread.)
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def enter_namespace(path: Path) -> None:
    """Move the calling *thread* into the network namespace at ``path`` (``setns``).

    Sockets it creates afterwards belong to that namespace, wherever they are used later: the
    forwarder's connecting thread calls this once.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    descriptor = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(descriptor, _CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise NamespaceError(f"setns({path}): {os.strerror(error)}")
    finally:
        os.close(descriptor)


class NetworkNamespace:
    """A network namespace held open by a ``sleep`` process; see the module docstring."""

    def __init__(self, holder: subprocess.Popen[bytes], addresses: Addresses) -> None:
        self._holder = holder
        self.addresses = addresses
        self.path = Path(f"/proc/{holder.pid}/ns/net")
        self.inode = 0
        """The namespace's identity (``/proc/PID/ns/net``'s inode), known once it is entered."""

    @classmethod
    def create(cls, addresses: Addresses | None = None) -> NetworkNamespace:
        holder = subprocess.Popen(
            ["unshare", "--net", "--", "sleep", "infinity"],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=exit_with_parent,  # noqa: PLW1509 - the holder must die with the tests
        )
        namespace = cls(holder, addresses or Addresses())
        try:
            namespace._wait_entered()
            namespace._set_up()
        except BaseException:
            namespace.stop()
            raise
        return namespace

    def _wait_entered(self) -> None:
        own = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._holder.poll() is not None:
                raise NamespaceError(f"unshare --net exited with {self._holder.returncode}")
            with contextlib.suppress(OSError):
                if os.readlink(self.path) != own:
                    self.inode = os.stat(self.path).st_ino
                    return
            time.sleep(0.01)
        raise NamespaceError("unshare --net did not enter a new network namespace within 10 s")

    def _set_up(self) -> None:
        a = self.addresses
        steps: list[list[str]] = [
            ["ip", "link", "set", "lo", "up"],
            ["ip", "addr", "add", f"{a.node}/32", "dev", "lo"],
            ["ip", "addr", "add", f"{a.kubernetes_service}/32", "dev", "lo"],
            # Everything else goes into a veth pair whose other end is in here too: a sink.
            ["ip", "link", "add", "escape0", "type", "veth", "peer", "name", "escape1"],
            ["ip", "link", "set", "escape0", "up"],
            ["ip", "link", "set", "escape1", "up"],
            ["ip", "route", "add", "default", "dev", "escape0"],
            ["iptables", "-w", "-t", "raw", "-N", ESCAPE_CHAIN],
            # OUTPUT: what processes of the namespace send; PREROUTING: what pods send through it.
            ["iptables", "-w", "-t", "raw", "-A", "OUTPUT", "-j", ESCAPE_CHAIN],
            ["iptables", "-w", "-t", "raw", "-A", "PREROUTING", "-j", ESCAPE_CHAIN],
        ]
        steps += [
            ["iptables", "-w", "-t", "raw", "-A", ESCAPE_CHAIN, "-d", net, "-j", "RETURN"]
            for net in a.inside()
        ]
        steps.append(["iptables", "-w", "-t", "raw", "-A", ESCAPE_CHAIN, "-j", "ACCEPT"])
        for step in steps:
            self.run(step)

    @property
    def pid(self) -> int:
        return self._holder.pid

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["nsenter", f"--net={self.path}", "--", *argv]

    def run(self, argv: Sequence[str], *, timeout: float = 60) -> str:
        """Run a command inside; its stdout, or :class:`NamespaceError` with its output."""
        result = subprocess.run(
            self.command(argv), capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise NamespaceError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def escaped_packets(self) -> list[tuple[int, str]]:
        """``(packets, rule)`` for every counted escape rule with packets: empty when nothing escaped."""
        listing = self.run(["iptables", "-w", "-t", "raw", "-L", ESCAPE_CHAIN, "-v", "-x", "-n"])
        escaped = []
        for line in listing.splitlines()[2:]:
            fields = line.split()
            if fields and fields[2] == "ACCEPT" and int(fields[0]) > 0:
                escaped.append((int(fields[0]), line.strip()))
        return escaped

    def open_connections(self) -> list[tuple[str, str]]:
        """``(local, remote)`` of every TCP connection inside the namespace (its own ``/proc/net/tcp``)."""
        connections = []
        for table in ("tcp", "tcp6"):
            path = Path(f"/proc/{self.pid}/net/{table}")
            with contextlib.suppress(OSError):
                for line in path.read_text().splitlines()[1:]:
                    fields = line.split()
                    if fields[3] != "0A":  # LISTEN
                        connections.append((_address(fields[1]), _address(fields[2])))
        return connections

    def processes(self) -> list[str]:
        """``"PID name"`` of every process in the namespace (the holder included while it runs)."""
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError):
                    if os.stat(f"/proc/{entry}/ns/net").st_ino == self.inode:
                        found.append(f"{entry} {Path(f'/proc/{entry}/comm').read_text().strip()}")
        return found

    def stop(self) -> None:
        """End the holder: the namespace goes once every process inside has ended too."""
        if self._holder.poll() is None:
            self._holder.kill()
        self._holder.wait()


def _address(field: str) -> str:
    """``0100007F:1F90`` (``/proc/net/tcp``) as ``127.0.0.1``; IPv6 likewise."""
    host = field.split(":", maxsplit=1)[0]
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))
