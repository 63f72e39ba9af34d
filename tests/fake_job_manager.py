"""A fake Flink JobManager REST API on 127.0.0.1, for the usage loop's tests and its benchmark.

It answers the three requests the operator makes (``/config``, ``/taskmanagers``,
``/taskmanagers/metrics?get=...&agg=max``) in the shapes Flink's handlers use, from values a test
sets and changes while it runs; anything else is a 404. A test can make it answer badly
(``status``, ``raw_metrics``) to check that the operator says so. Every server started is stopped
by the test that started it (``async with FakeJobManager() as jm``).
"""

from __future__ import annotations

import json
import socket
from types import TracebackType
from typing import Any

from aiohttp import web

from flink_tm_memory.cluster.flink_rest import DIRECT, HEAP, MANAGED, METASPACE, NETWORK

MIB = 1 << 20


class FakeJobManager:
    """One fake JobManager; ``url`` once started."""

    def __init__(self, version: str = "2.2.1", task_managers: int = 2) -> None:
        self.version = version
        self.task_managers = task_managers
        self.metrics: dict[str, float] = {
            HEAP: 400 * MIB,
            METASPACE: 70 * MIB,
            MANAGED: 100 * MIB,
            NETWORK: 4 * MIB,
            DIRECT: 0,
        }
        self.status = 200
        self.raw_metrics: Any = None
        """When set, answered instead of the aggregation of ``metrics``: bytes as they are, else as JSON."""
        self.requests: list[str] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FakeJobManager:
        app = web.Application()
        app.router.add_get("/config", self._config)
        app.router.add_get("/taskmanagers", self._task_managers)
        app.router.add_get("/taskmanagers/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, listener).start()
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _config(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        if self.status != 200:
            return web.Response(status=self.status)
        return web.json_response({"flink-version": self.version, "refresh-interval": 3000})

    async def _task_managers(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        managers = [{"id": f"tm-{index}", "slotsNumber": 1} for index in range(self.task_managers)]
        return web.json_response({"taskmanagers": managers})

    async def _metrics(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        if isinstance(self.raw_metrics, bytes):
            return web.Response(body=self.raw_metrics, content_type="application/json")
        if self.raw_metrics is not None:
            return web.Response(text=json.dumps(self.raw_metrics), content_type="application/json")
        wanted = request.query.get("get", "").split(",")
        answer = [{"id": name, "max": float(self.metrics[name])} for name in wanted if name in self.metrics]
        return web.json_response(answer)
