"""Reconciliation yields the CPU to admission: the reconciling process's threads at a higher nice value.

The admission process answers the API server while it waits (a pod creation, a ``kubectl apply``);
reconciliation is eventually consistent and may take a moment longer. On a node short of CPU, or a
pod given little of it, both processes compete for the same cores; the kernel shares them by
weight, and a thread at nice 10 weighs about a tenth of one at nice 0 (CFS: each nice step is about
1.25x). So once the admission process runs, every thread of the reconciling process except the
supervisor's (``spare``: the thread that starts admission children, which inherit its nice value)
is moved ``increment`` steps down (``yield_cpu``); threads they create later inherit it. Nothing is
lost when admission is idle: a lower priority only matters while something else wants the CPU.

On Linux a nice value belongs to a thread (``setpriority(PRIO_PROCESS, tid)``), so each thread of
``/proc/self/task`` is changed on its own. An unprivileged process may always raise its own nice
value (lower its priority): no capability is needed, and the restricted securityContext allows it;
lowering it back would need ``CAP_SYS_NICE``, so this is done once, for the life of the process.
Where it does not work (not Linux, a seccomp profile refusing it) nothing changes, and the reason is
logged at INFO: admission is still served, only less promptly under load.

Off by default (``--reconcile-nice 0``): whether it helps has not been shown. On the shared 2-core
machine the runs with and without it (``benchmarks/README.md``, "In a process of its own") were
dominated by other sessions' load, and there nice also yields to every other process of the machine,
which a pod's cgroup would not; it is kept as an option for the measurement on an idle machine.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_NICE = 19
TASKS = Path("/proc/self/task")


def yield_cpu(increment: int, *, spare: Collection[int] = ()) -> int:
    """Adds ``increment`` to the nice value of every thread of this process but ``spare`` (native ids).

    Returns how many threads were changed.
    """
    if increment <= 0:
        return 0
    try:
        threads = [int(task.name) for task in TASKS.iterdir()]
    except OSError as error:
        logger.info(f"Reconciliation keeps its CPU priority: cannot list this process's threads ({error})")
        return 0
    changed = 0
    for thread in threads:
        if thread in spare:
            continue
        try:
            current = os.getpriority(os.PRIO_PROCESS, thread)
            os.setpriority(os.PRIO_PROCESS, thread, min(MAX_NICE, current + increment))
        except ProcessLookupError:  # the thread ended meanwhile
            continue
        except OSError as error:
            logger.info(f"Reconciliation keeps its CPU priority: {error}")
            return changed
        changed += 1
    return changed
