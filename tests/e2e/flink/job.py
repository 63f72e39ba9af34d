"""The small streaming job the real-node tests run (``job/UsageJob.java``), compiled once and cached.

The distribution assembled from PyPI has no ``examples/``, so the job is built here: ``javac`` and
``jar`` (the JDK the Flink oracle uses, Java 17) against ``lib/flink-dist*.jar`` of the release, into
``.tools/flink-jobs/<version>/<hash of the source>/usage-job.jar``. A changed source is a new
directory; a finished jar is renamed into place, so an interrupted build leaves nothing that looks done.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.e2e.flink.distribution import flink_distribution

SOURCE = Path(__file__).resolve().parent / "job" / "UsageJob.java"
CACHE = Path(__file__).resolve().parents[3] / ".tools" / "flink-jobs"
MAIN_CLASS = "UsageJob"
JAR_NAME = "usage-job.jar"


def usage_job_jar(version: str) -> Path:
    """The job's jar for Flink ``version`` (built on first use)."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    target = CACHE / version / digest / JAR_NAME
    if target.exists():
        return target
    [dist] = sorted((flink_distribution(version).home / "lib").glob("flink-dist*.jar"))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        classes = Path(scratch) / "classes"
        classes.mkdir()
        subprocess.run(
            ["javac", "--release", "11", "-d", str(classes), "-cp", str(dist), str(SOURCE)],
            check=True,
            capture_output=True,
            text=True,
        )
        built = Path(scratch) / JAR_NAME
        subprocess.run(["jar", "--create", "--file", str(built), "-C", str(classes), "."], check=True)
        shutil.move(built, target)
    return target
