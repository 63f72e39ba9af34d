"""Every state of a namespace's objects, as a watch on the real API server delivers them.

What: ``kubectl get KIND -w -o json`` in the background for each kind a test follows, recording every
version of every object; with the final objects listed, that is the ``History`` the reliability
guarantees (``tests/reliability/fleet.py``) are checked on.

Why: against the emulator those guarantees read its store's history (which generation's layout a
ConfigMap ever held decides what a conflicting spec must keep). The real API server keeps no history,
but its watch delivers every change from the resourceVersion of its initial list, so a watch started
before the first object exists sees them all.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections import defaultdict
from typing import IO

from tests.e2e.controlplane import ControlPlane
from tests.integration.kubectl import Json

START_TIMEOUT = 30.0


class Watched:
    """Watches of ``kinds`` (``resource``, kubectl's name for it) in ``namespace``, until :meth:`stop`."""

    def __init__(self, cluster: ControlPlane, namespace: str, kinds: dict[str, str]) -> None:
        self._cluster = cluster
        self._namespace = namespace
        self._kinds = kinds
        self._seen: dict[tuple[str, str], list[Json]] = defaultdict(list)
        self._now: dict[tuple[str, str], Json] = {}
        self._lock = threading.Lock()
        self._watches: list[subprocess.Popen[str]] = []
        self._threads: list[threading.Thread] = []
        for resource, kind in kinds.items():
            listed = threading.Event()
            watch = subprocess.Popen(
                [str(cluster.tools.kubectl), "get", kind, "-n", namespace, "-w", "-o", "json", "-v=6"],
                env=cluster.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            self._watches.append(watch)
            assert watch.stdout is not None
            assert watch.stderr is not None
            for target, stream in ((self._record, watch.stdout), (self._listed, watch.stderr)):
                thread = threading.Thread(target=target, args=(resource, stream, listed), daemon=True)
                thread.start()
                self._threads.append(thread)
            # Once the server answers the watch (kubectl logs it at -v=6), every later change reaches it.
            if not listed.wait(START_TIMEOUT):
                self.stop()
                raise AssertionError(f"kubectl did not start watching {kind} in {namespace}")

    def _record(self, resource: str, stream: IO[str], _listed: threading.Event) -> None:
        lines: list[str] = []
        for line in stream:
            lines.append(line)
            if line.rstrip("\n") != "}":  # the end of one pretty-printed object
                continue
            body: Json = json.loads("".join(lines))
            lines.clear()
            with self._lock:
                self._seen[resource, body["metadata"]["name"]].append(body)

    def _listed(self, resource: str, stream: IO[str], listed: threading.Event) -> None:
        for line in stream:
            if "watch=true" in line and "200 OK" in line:
                listed.set()

    def stop(self) -> None:
        for watch in self._watches:
            watch.terminate()
            watch.wait(10)
        for thread in self._threads:
            thread.join(10)
        for watch in self._watches:
            for stream in (watch.stdout, watch.stderr):
                if stream is not None:
                    stream.close()

    def refresh(self) -> None:
        """Lists every followed kind: what :meth:`body` answers."""
        now = {}
        for resource, kind in self._kinds.items():
            listed = self._cluster.kubectl("get", kind, "-n", self._namespace, "-o", "json")
            for body in json.loads(listed.stdout)["items"]:
                now[resource, body["metadata"]["name"]] = body
        self._now = now

    def live(self, resource: str) -> list[Json]:
        return [body for (kind, _), body in self._now.items() if kind == resource]

    def stored(self, resource: str, namespace: str | None, name: str) -> Json | None:
        return self._now.get((resource, name))

    def versions(self, resource: str, namespace: str | None, name: str) -> list[Json]:
        """Every version seen since the object was (last) created, oldest first."""
        with self._lock:
            seen = list(self._seen.get((resource, name), []))
        uid = (self._now.get((resource, name)) or {}).get("metadata", {}).get("uid")
        return [body for body in seen if uid is None or body["metadata"]["uid"] == uid]

    def changes(self) -> int:
        """How many versions the watches have delivered so far."""
        with self._lock:
            return sum(len(bodies) for bodies in self._seen.values())

    def caught_up(self) -> bool:
        """Whether the watches have delivered every object as last listed."""
        with self._lock:
            seen = {
                (key, body["metadata"]["resourceVersion"])
                for key, bodies in self._seen.items()
                for body in bodies
            }
        return all((key, body["metadata"]["resourceVersion"]) in seen for key, body in self._now.items())
