"""Reconciliation yields the CPU: every thread but the spared one moves down, in a process of its own.

Run in a child interpreter (nice values cannot be lowered back without a capability: the test's own
process must keep its priority).
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r"""
import json, os, threading
from flink_tm_memory.runtime.priority import yield_cpu
ready, done = threading.Event(), threading.Event()
ids = {}
def worker(name):
    ids[name] = threading.get_native_id()
    ready.set() if len(ids) == 2 else None
    done.wait()
threads = [threading.Thread(target=worker, args=(name,)) for name in ("spared", "other")]
for thread in threads:
    thread.start()
ready.wait()
before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
changed = yield_cpu(7, spare=(ids["spared"],))
later = []
def late():
    later.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
thread = threading.Thread(target=late); thread.start(); thread.join()
print(json.dumps({
    "before": before,
    "main": os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
    "spared": os.getpriority(os.PRIO_PROCESS, ids["spared"]),
    "other": os.getpriority(os.PRIO_PROCESS, ids["other"]),
    "later": later[0],
    "changed": changed,
    "again": yield_cpu(30, spare=(ids["spared"],)) and os.getpriority(os.PRIO_PROCESS, ids["other"]),
    "none": yield_cpu(0),
}))
done.set()
"""


def test_every_thread_but_the_spared_one_yields_and_new_threads_inherit_it() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    seen = json.loads(result.stdout)
    before = seen["before"]
    assert seen["main"] == before + 7
    assert seen["other"] == before + 7
    assert seen["later"] == before + 7  # created by a thread that yielded
    assert seen["spared"] == before  # the supervisor's: admission children inherit its priority
    assert seen["changed"] == 2
    assert seen["again"] == 19  # capped at the lowest priority
    assert seen["none"] == 0
