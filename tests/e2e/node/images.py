"""The container images of the e2e node, made on this machine: no registry is reachable from it.

What: ``build_node_images(repo_root, ["2.2.1", "1.20.5"])`` returns ``docker save`` archives of every
image the single-node cluster runs, ready for ``ctr -n k8s.io images import``:

- ``localhost/pause:e2e``: the pod sandbox, a static binary of ``tests/e2e/images/pause/pause.c``
  (waits for SIGTERM or SIGINT, reaps zombies) in an image ``FROM scratch``;
- ``localhost/flink-tm-memory-operator:e2e``: the project's own ``Dockerfile``, unmodified, built on a
  Debian python base (``--build-arg PYTHON_IMAGE=localhost/debian-python:3.11-bookworm``), which shows
  that the Dockerfile does not depend on the official ``python`` image; its CycloneDX SBOM (made by
  the Dockerfile's ``sbom`` stage, kept in the image) is copied out next to the archive,
  ``<cache>/flink-tm-memory-operator.cdx.json``;
- ``localhost/flink:<version>``: per Flink release, Debian's Java 17, the distribution that
  ``tests/e2e/flink/distribution.py`` assembles from PyPI (without ``opt/``) in ``/opt/flink``, user
  ``flink`` (9999), the official image's entrypoint (``tests/e2e/images/flink/``; it copes with a
  read-only ConfigMap mounted at ``/opt/flink/conf``) and the native-memory ballast agent
  ``/opt/flink-e2e/ballast.jar`` (``tests/e2e/images/ballast/``).

Why this way: Docker Hub, registry.k8s.io and ghcr are out of reach; Debian's mirror, PyPI and the host's
compilers are not. The base is a Debian root filesystem made by ``mmdebstrap`` (python3, python3-venv,
python3-pip, python-is-python3, ca-certificates), imported as ``localhost/debian-python:3.11-bookworm``.
mmdebstrap rather than debootstrap: it was the faster of the two when both were timed here with the
same packages, and it writes the tarball itself, with dpkg's path excludes (documentation, man pages,
locales). The host's
apt sources and ``99artifact-registry`` go into the root filesystem (the Flink images run apt), and so
does the host's CA bundle (TLS to PyPI is intercepted here; pip in the operator build must trust it).

Images are built by a private ``dockerd`` this module starts and stops: its own data root, exec root,
pid file and socket under the cache directory, no bridge, no iptables rules, no IP forwarding, its
containers under a cgroup parent of its own; ``DOCKER_BUILDKIT=0 docker build --network host`` (pip
and apt reach their registries through the host's network; nothing else is sent anywhere). It is
stopped in a ``finally`` (SIGTERM, then SIGKILL) and everything it made is removed: leftover
processes, mounts under its roots (it bind-mounts its data root and a netns file), the cgroups it
created, a ``docker0`` link, ``DOCKER*`` iptables rules and chains (none are expected with these flags;
a kubelet's ``KUBE-*`` ones are left alone), its ``/etc/docker/key.json`` (and the directory's times),
empty directories it made under ``/run``, and ``net.ipv4.ip_forward`` is restored. Root is needed to
build (mmdebstrap, dockerd); reading cached archives is not.

Caching: each archive ``<cache>/<name>.tar`` has a ``<name>.json`` recording the content hash of its
inputs (Dockerfile and build context files, the Flink version and its files' names and sizes, the
base root filesystem's sha256, the compilers' versions...). A call whose archives all match builds
nothing and does not start dockerd. The root filesystem ``<cache>/debian-python-rootfs.tar`` is
cached the same way; dockerd's data root (``<cache>/dockerd/data``) is kept as a layer cache for
partial rebuilds and may be deleted at any time. The default cache is ``<repo>/.tools/images``
(``.tools/`` is git-ignored).

``python tests/e2e/node/images.py`` builds everything and prints the archives (standard library only:
it runs before the project's venv exists).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BASE_REFERENCE",
    "OPERATOR_REFERENCE",
    "PAUSE_REFERENCE",
    "ImageArchive",
    "ImageBuildError",
    "NodeImages",
    "build_node_images",
    "flink_reference",
    "main",
]

BASE_REFERENCE = "localhost/debian-python:3.11-bookworm"
OPERATOR_REFERENCE = "localhost/flink-tm-memory-operator:e2e"
SBOM_IN_IMAGE = "/usr/share/doc/flink-tm-memory-operator/sbom.cdx.json"
"""Where the Dockerfile puts the image's CycloneDX SBOM."""
PAUSE_REFERENCE = "localhost/pause:e2e"
FLINK_REPOSITORY = "localhost/flink"
DEFAULT_FLINK_VERSIONS = ("2.2.1", "1.20.5")

SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "python3-pip", "python-is-python3", "ca-certificates")
"""What the project's Dockerfile needs of its base: ``python`` with venv and pip, and CA certificates."""
DPKG_EXCLUDES = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/locale/*",
)
BASE_CHANGES = (
    # What the official python images set, and a docker import does not: without PATH, a Dockerfile's
    # `ENV PATH=/opt/venv/bin:$PATH` would leave nothing but the venv on it.
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["python3"]',
)
ROOTFS_LABEL = "io.flink-tm-memory.e2e.rootfs-sha256"

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
HOST_APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
HOST_APT_CONF = (Path("/etc/apt/apt.conf.d/99artifact-registry"),)
PIP_CONF = "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n"
"""The rootfs's ``/etc/pip.conf``: pip trusts the (host's) bundle, whatever its vendored certifi says."""
CUSTOMIZE_HOOKS = (
    f'cp {HOST_CA_BUNDLE} "$1/etc/ssl/certs/ca-certificates.crt"',
    f'printf %s {shlex.quote(PIP_CONF)} > "$1/etc/pip.conf"',
    # Man pages are excluded, but update-alternatives (openjdk's postinst) links into man1: it must exist.
    'mkdir -p "$1/usr/share/man/man1"',
)

DOCKER = "/usr/bin/docker"  # the 20.10 client of docker.io; /usr/local/bin/docker may be a newer one
DOCKERD = "/usr/sbin/dockerd"
CGROUP_PARENT = "flink-e2e-images"
"""The cgroup (in every v1 hierarchy) under which the private dockerd puts its build containers."""
CGROUP_ROOT = Path("/sys/fs/cgroup")
DOCKERD_START_TIMEOUT = 60.0
DOCKERD_STOP_TIMEOUT = 30.0
COMMAND_TIMEOUT = 1800.0
SOCKET_PATH_LIMIT = 100  # sun_path holds 108 bytes; dockerd's containerd nests sockets under exec-root

IMAGES_DIR = Path("tests/e2e/images")
JAR_DATE = "1980-01-02T00:00:00Z"  # a fixed timestamp for the jar's entries: the same jar every build


class ImageBuildError(RuntimeError):
    """An image could not be built or saved, or the private dockerd could not be run or cleaned up."""


@dataclass(frozen=True)
class ImageArchive:
    """A ``docker save`` archive holding one image, tagged ``reference``."""

    reference: str
    path: Path


@dataclass(frozen=True)
class NodeImages:
    """Every image the e2e node runs; ``flink`` by Flink version (``"2.2.1"``)."""

    pause: ImageArchive
    operator: ImageArchive
    flink: Mapping[str, ImageArchive]
    operator_sbom: Path
    """The operator image's CycloneDX SBOM (JSON), copied out of the image."""


def flink_reference(version: str) -> str:
    """``localhost/flink:<version>``."""
    return f"{FLINK_REPOSITORY}:{version}"


def _stderr_log(message: str) -> None:
    print(f"[images] {message}", file=sys.stderr, flush=True)


def build_node_images(
    repo_root: Path,
    flink_versions: Sequence[str],
    cache_dir: Path | None = None,
    log: Callable[[str], None] = _stderr_log,
) -> NodeImages:
    """The node's image archives, built into ``cache_dir`` (``<repo_root>/.tools/images``) unless cached."""
    repo_root = repo_root.resolve()
    cache = (cache_dir or repo_root / ".tools" / "images").resolve()
    versions = tuple(dict.fromkeys(flink_versions))
    for version in versions:
        if not re.fullmatch(r"\d+\.\d+\.\d+", version):
            raise ImageBuildError(f"a full Flink release is needed (2.2.1), not {version!r}")
    cache.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with _locked(cache / ".lock"):
        builder = _Builder(repo_root, cache, log)
        images = builder.build(versions)
    log(f"all images ready in {time.monotonic() - started:.1f} s")
    return images


# ---- what is built, and from what ----


@dataclass(frozen=True)
class _Image:
    """One image: its archive's name (``<cache>/<name>.tar``), its reference, and what it is built from."""

    name: str
    reference: str
    inputs: Mapping[str, object]

    def archive(self, cache: Path) -> ImageArchive:
        return ImageArchive(self.reference, cache / f"{self.name}.tar")


class _Builder:
    def __init__(self, repo_root: Path, cache: Path, log: Callable[[str], None]) -> None:
        self.repo = repo_root
        self.cache = cache
        self.log = log
        self.images_dir = repo_root / IMAGES_DIR
        self.logs = cache / "logs"

    # -- the plan --

    def build(self, versions: tuple[str, ...]) -> NodeImages:
        rootfs_sha = self._rootfs()
        with self._step("cache keys"):
            pause = self._pause_image()
            operator = self._operator_image(rootfs_sha)
            homes = {version: self._flink_home(version) for version in versions}
            flink = {version: self._flink_image(version, homes[version], rootfs_sha) for version in versions}
        wanted = [pause, operator, *flink.values()]
        stale = [image for image in wanted if not self._cached(image)]
        for image in wanted:
            if image not in stale:
                self.log(f"{image.reference}: cached, {image.archive(self.cache).path}")
        if stale:
            self.logs.mkdir(exist_ok=True)
            with _Dockerd(self.cache / "dockerd", self.log, self.logs / "dockerd.log") as docker:
                self._import_base(docker, rootfs_sha)
                for image in stale:
                    self._build_image(docker, image, homes)
                with self._step("docker image prune"):
                    docker.run("image", "prune", "--force")
        return NodeImages(
            pause=pause.archive(self.cache),
            operator=operator.archive(self.cache),
            flink={version: image.archive(self.cache) for version, image in flink.items()},
            operator_sbom=self._sbom(operator),
        )

    def _sbom(self, image: _Image) -> Path:
        return self.cache / f"{image.name}.cdx.json"

    def _pause_image(self) -> _Image:
        directory = self.images_dir / "pause"
        return _Image(
            name="pause",
            reference=PAUSE_REFERENCE,
            inputs={
                "files": _hash_files(directory, ["Dockerfile", "pause.c"]),
                "gcc": _tool_version(["gcc", "--version"]),
            },
        )

    def _operator_image(self, rootfs_sha: str) -> _Image:
        return _Image(
            name="flink-tm-memory-operator",
            reference=OPERATOR_REFERENCE,
            inputs={
                # .dockerignore leaves the Dockerfile itself out of the context: both are named here.
                "files": _hash_files(self.repo, ["Dockerfile", ".dockerignore"]),
                "context": _context_digest(self.repo),
                "base": BASE_REFERENCE,
                "rootfs": rootfs_sha,
                "base-changes": list(BASE_CHANGES),
            },
        )

    def _flink_image(self, version: str, home: Path, rootfs_sha: str) -> _Image:
        return _Image(
            name=f"flink-{version}",
            reference=flink_reference(version),
            inputs={
                "version": version,
                # A release's files never change: their names and sizes tell one download from another.
                "distribution": _listing_digest(home, skip=_FLINK_SKIPPED),
                "files": _hash_files(self.images_dir / "flink", ["Dockerfile", "docker-entrypoint.sh"]),
                "ballast": _hash_files(self.images_dir / "ballast", ["Ballast.java", "MANIFEST.MF"]),
                "javac": _tool_version(["javac", "-version"]),
                "rootfs": rootfs_sha,
                "base-changes": list(BASE_CHANGES),
            },
        )

    def _flink_home(self, version: str) -> Path:
        # Imported here: the repository root must be importable first (see main()).
        from tests.e2e.flink.distribution import flink_distribution  # noqa: PLC0415

        distribution = flink_distribution(version, cache_dir=self.repo / ".tools" / "flink")
        if distribution.download_seconds:
            self.log(f"Flink {version}: downloaded from PyPI in {distribution.download_seconds:.1f} s")
        return distribution.home

    # -- the cache --

    def _record(self, image: _Image) -> Path:
        return self.cache / f"{image.name}.json"

    def _cached(self, image: _Image) -> bool:
        archive = image.archive(self.cache).path
        try:
            record = json.loads(self._record(image).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if image.reference == OPERATOR_REFERENCE and not self._sbom(image).is_file():
            return False
        return bool(archive.is_file() and record.get("key") == _digest(image.inputs))

    def _write_record(self, image: _Image, seconds: float) -> None:
        record = {
            "reference": image.reference,
            "key": _digest(image.inputs),
            "inputs": image.inputs,
            "build_seconds": round(seconds, 1),
        }
        _write_atomically(self._record(image), json.dumps(record, indent=2, sort_keys=True) + "\n")

    # -- the base root filesystem --

    def _rootfs(self) -> str:
        """The Debian python root filesystem's tarball, built unless cached; returns its sha256."""
        tarball = self.cache / "debian-python-rootfs.tar"
        record_path = self.cache / "debian-python-rootfs.json"
        sources = _apt_sources()
        apt_conf = [path for path in HOST_APT_CONF if path.is_file()]
        inputs: dict[str, object] = {
            "suite": SUITE,
            "packages": list(BASE_PACKAGES),
            "dpkg": list(DPKG_EXCLUDES),
            "sources": {str(path): _sha256_file(path) for path in sources},
            "apt-conf": {str(path): _sha256_file(path) for path in apt_conf},
            "ca-bundle": _sha256_file(HOST_CA_BUNDLE),
            "hooks": list(CUSTOMIZE_HOOKS),
            "mmdebstrap": _tool_version(["mmdebstrap", "--version"]),
        }
        key = _digest(inputs)
        with contextlib.suppress(OSError, ValueError):
            record = json.loads(record_path.read_text(encoding="utf-8"))
            if record.get("key") == key and tarball.is_file():
                self.log(f"base root filesystem: cached, {tarball}")
                return str(record["sha256"])
        partial = self.cache / "debian-python-rootfs.partial.tar"
        partial.unlink(missing_ok=True)
        self.logs.mkdir(exist_ok=True)
        command = [
            "mmdebstrap",
            "--mode=root",
            "--format=tar",
            "--variant=minbase",
            f"--include={','.join(BASE_PACKAGES)}",
            *(f"--aptopt={path}" for path in apt_conf),
            *(f"--dpkgopt={option}" for option in DPKG_EXCLUDES),
            *(f"--customize-hook={hook}" for hook in CUSTOMIZE_HOOKS),
            SUITE,
            str(partial),
            *(str(path) for path in sources),
        ]
        _require_root("mmdebstrap --mode=root")
        with self._step("base root filesystem (mmdebstrap)"):
            _run(command, self.logs / "rootfs.log")
            sha = _sha256_file(partial)
            partial.rename(tarball)
        record = {"key": key, "inputs": inputs, "sha256": sha}
        _write_atomically(record_path, json.dumps(record, indent=2, sort_keys=True) + "\n")
        self.log(f"base root filesystem: {tarball} ({tarball.stat().st_size / 2**20:.0f} MiB)")
        return sha

    def _import_base(self, docker: _Dockerd, rootfs_sha: str) -> None:
        label = f'{{{{index .Config.Labels "{ROOTFS_LABEL}"}}}}'
        current = docker.output("image", "inspect", "--format", label, BASE_REFERENCE, check=False)
        if current.strip() == rootfs_sha:
            return
        changes = [*BASE_CHANGES, f"LABEL {ROOTFS_LABEL}={rootfs_sha}"]
        with self._step(f"docker import {BASE_REFERENCE}"):
            docker.run(
                "import",
                *(word for change in changes for word in ("--change", change)),
                str(self.cache / "debian-python-rootfs.tar"),
                BASE_REFERENCE,
            )

    # -- the builds --

    def _build_image(self, docker: _Dockerd, image: _Image, homes: Mapping[str, Path]) -> None:
        archive = image.archive(self.cache).path
        started = time.monotonic()
        contexts = self.cache / "contexts"
        with self._step(f"{image.reference}: build"):
            if image.name == "flink-tm-memory-operator":
                docker.build(
                    image.reference,
                    self.repo,
                    self.repo / "Dockerfile",
                    {"PYTHON_IMAGE": BASE_REFERENCE},
                    self.logs / f"{image.name}.log",
                )
            else:
                context = contexts / image.name
                shutil.rmtree(context, ignore_errors=True)
                context.mkdir(parents=True)
                try:
                    if image.name == "pause":
                        self._pause_context(context)
                        build_args: dict[str, str] = {}
                    else:
                        version = str(image.inputs["version"])
                        self._flink_context(context, homes[version])
                        build_args = {"BASE_IMAGE": BASE_REFERENCE}
                    docker.build(
                        image.reference,
                        context,
                        context / "Dockerfile",
                        build_args,
                        self.logs / f"{image.name}.log",
                    )
                finally:
                    shutil.rmtree(context, ignore_errors=True)
                with contextlib.suppress(OSError):
                    contexts.rmdir()
        with self._step(f"{image.reference}: docker save"):
            partial = archive.with_name(f"{archive.stem}.partial.tar")
            partial.unlink(missing_ok=True)
            docker.run("save", "--output", str(partial), image.reference)
            partial.chmod(0o644)
            partial.rename(archive)
        if image.reference == OPERATOR_REFERENCE:
            with self._step(f"{image.reference}: SBOM"):
                self._copy_sbom(docker, image)
        self._write_record(image, time.monotonic() - started)
        size = docker.output("image", "inspect", "--format", "{{.Size}}", image.reference).strip()
        self.log(
            f"{image.reference}: image {int(size) / 2**20:.0f} MiB, "
            f"archive {archive.stat().st_size / 2**20:.0f} MiB, {archive}"
        )

    def _copy_sbom(self, docker: _Dockerd, image: _Image) -> None:
        """Copies the SBOM out of the image (a created, never started, container) next to its archive."""
        target = self._sbom(image)
        partial = target.with_name(f"{target.name}.partial")
        partial.unlink(missing_ok=True)
        container = docker.output("create", image.reference).strip()
        try:
            docker.run("cp", f"{container}:{SBOM_IN_IMAGE}", str(partial))
        finally:
            docker.run("rm", "--force", container)
        partial.chmod(0o644)
        partial.rename(target)

    def _pause_context(self, context: Path) -> None:
        source = self.images_dir / "pause"
        shutil.copy2(source / "Dockerfile", context / "Dockerfile")
        _run(
            [
                "gcc",
                "-static",
                "-Os",
                "-s",
                "-Wall",
                "-Wextra",
                "-o",
                str(context / "pause"),
                str(source / "pause.c"),
            ],
            self.logs / "pause.log",
        )

    def _flink_context(self, context: Path, home: Path) -> None:
        source = self.images_dir / "flink"
        for name in ("Dockerfile", "docker-entrypoint.sh"):
            shutil.copy2(source / name, context / name)
        self._ballast_jar(context / "ballast.jar")
        _link_tree(home, context / "flink", skip=_FLINK_SKIPPED)

    def _ballast_jar(self, jar: Path) -> None:
        source = self.images_dir / "ballast"
        with tempfile.TemporaryDirectory(prefix="ballast-", dir=self.cache) as scratch:
            classes = Path(scratch)
            log = self.logs / "ballast.log"
            _run(["javac", "--release", "17", "-d", str(classes), str(source / "Ballast.java")], log)
            _run(
                [
                    *("jar", "--create", "--file", str(jar), "--manifest", str(source / "MANIFEST.MF")),
                    *("--date", JAR_DATE, "-C", str(classes), "."),
                ],
                log,
            )

    @contextlib.contextmanager
    def _step(self, what: str) -> Iterator[None]:
        started = time.monotonic()
        self.log(f"{what} ...")
        yield
        self.log(f"{what}: {time.monotonic() - started:.1f} s")


_FLINK_SKIPPED = frozenset({"opt"})
"""Top-level directories of the Flink home left out of the images: ``opt/`` (optional jars, ~40 MB)."""


# ---- the private dockerd ----


class _Dockerd:
    """A dockerd of its own, started on entering and stopped, with everything it made, on leaving."""

    def __init__(self, root: Path, log: Callable[[str], None], log_file: Path) -> None:
        self.root = root
        self.log = log
        self.log_file = log_file
        self.data_root = root / "data"
        self.socket = root / "docker.sock"
        self.pidfile = root / "dockerd.pid"
        self.client_config = root / "client"
        self.exec_root = root / "run"
        self._scratch: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._before: _HostState | None = None

    def __enter__(self) -> _Dockerd:
        _require_root("dockerd")
        self.root.mkdir(parents=True, exist_ok=True)
        if (
            len(str(self.exec_root / "containerd" / "containerd.sock.ttrpc")) > SOCKET_PATH_LIMIT
            or len(str(self.socket)) > SOCKET_PATH_LIMIT
        ):
            self._scratch = Path(tempfile.mkdtemp(prefix="e2e-dockerd-"))
            self.exec_root = self._scratch / "run"
            self.socket = self._scratch / "docker.sock"
        for path in (self.data_root, self.exec_root, self.client_config):
            path.mkdir(parents=True, exist_ok=True)
        config = self.root / "daemon.json"
        config.write_text("{}\n", encoding="utf-8")  # not /etc/docker/daemon.json, whatever it says
        self.pidfile.unlink(missing_ok=True)
        self.socket.unlink(missing_ok=True)
        self._before = _HostState.capture()
        command = [
            DOCKERD,
            f"--config-file={config}",
            f"--data-root={self.data_root}",
            f"--exec-root={self.exec_root}",
            f"--pidfile={self.pidfile}",
            f"--host=unix://{self.socket}",
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-masq=false",
            "--ip-forward=false",
            f"--cgroup-parent=/{CGROUP_PARENT}",
            "--exec-opt=native.cgroupdriver=cgroupfs",
            "--userland-proxy=false",
            "--log-level=warn",
        ]
        started = time.monotonic()
        with self.log_file.open("ab") as output:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.log(
            f"dockerd (pid {self._process.pid}) ready in {time.monotonic() - started:.1f} s, {self.socket}"
        )
        return self

    def __exit__(self, *_: object) -> None:
        started = time.monotonic()
        problems: list[str] = []
        try:
            self._stop()
        finally:
            if self._before is not None:
                problems = self._clean_up(self._before)
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)
        self.log(f"dockerd stopped and cleaned up in {time.monotonic() - started:.1f} s")
        if problems:
            raise ImageBuildError("the private dockerd left things behind:\n" + "\n".join(problems))

    # -- the client --

    def environment(self) -> dict[str, str]:
        variables = {
            key: value for key, value in os.environ.items() if not key.startswith(("DOCKER_", "BUILDKIT_"))
        }
        variables.update(
            DOCKER_HOST=f"unix://{self.socket}",
            DOCKER_CONFIG=str(self.client_config),
            DOCKER_BUILDKIT="0",
            DOCKER_CLI_HINTS="false",
        )
        return variables

    def run(self, *arguments: str) -> None:
        self.output(*arguments)

    def output(self, *arguments: str, check: bool = True) -> str:
        result = subprocess.run(
            [DOCKER, *arguments],
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if check and result.returncode != 0:
            raise ImageBuildError(
                f"docker {' '.join(arguments)} exited with {result.returncode}:\n{result.stdout}{result.stderr}"
            )
        return result.stdout

    def build(
        self, reference: str, context: Path, dockerfile: Path, build_args: Mapping[str, str], log_file: Path
    ) -> None:
        command = [DOCKER, "build", "--network", "host", "--force-rm", "--tag", reference]
        command += ["--file", str(dockerfile)]
        for name, value in build_args.items():
            command += ["--build-arg", f"{name}={value}"]
        _run([*command, str(context)], log_file, env=self.environment())

    # -- start and stop --

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + DOCKERD_START_TIMEOUT
        while True:
            if self._process.poll() is not None:
                raise ImageBuildError(
                    f"dockerd exited with {self._process.returncode}:\n{_tail(self.log_file)}"
                )
            if self.socket.exists():
                result = subprocess.run(
                    [DOCKER, "version", "--format", "{{.Server.Version}}"],
                    env=self.environment(),
                    capture_output=True,
                    timeout=30,
                    check=False,
                )
                if result.returncode == 0:
                    return
            if time.monotonic() > deadline:
                raise ImageBuildError(
                    f"dockerd not ready in {DOCKERD_START_TIMEOUT:.0f} s:\n{_tail(self.log_file)}"
                )
            time.sleep(0.2)

    def _stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=DOCKERD_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.log(f"dockerd did not stop in {DOCKERD_STOP_TIMEOUT:.0f} s: SIGKILL")
                process.kill()
                process.wait()
        # Its containerd and shims, had it died without stopping them: found by session or by our paths.
        for pid in _our_processes(process.pid, (self.data_root, self.exec_root)):
            self.log(f"killing a leftover process of dockerd: {pid}")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _our_processes(process.pid, (self.data_root, self.exec_root)) and time.monotonic() < deadline:
            time.sleep(0.1)

    def _clean_up(self, before: _HostState) -> list[str]:
        """Removes what dockerd made on the host; returns what could not be removed."""
        problems: list[str] = []
        for mount in reversed(_mounts_under((self.data_root, self.exec_root))):
            result = subprocess.run(["umount", "--lazy", mount], capture_output=True, text=True, check=False)
            if result.returncode != 0:
                problems.append(f"mount {mount}: {result.stderr.strip()}")
        after = _HostState.capture()
        for cgroup in sorted(after.cgroups - before.cgroups, key=lambda path: -len(path.parts)):
            try:
                cgroup.rmdir()
            except OSError as error:
                problems.append(f"cgroup {cgroup}: {error}")
        for link in sorted((after.links - before.links) & {"docker0"}):
            result = subprocess.run(
                ["ip", "link", "delete", link], capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                problems.append(f"link {link}: {result.stderr.strip()}")
        for table in ("filter", "nat"):
            problems += _restore_iptables(
                table, before.iptables.get(table, ()), after.iptables.get(table, ())
            )
        if after.ip_forward != before.ip_forward and before.ip_forward is not None:
            self.log(f"net.ipv4.ip_forward changed to {after.ip_forward!r}: restored")
            Path("/proc/sys/net/ipv4/ip_forward").write_text(before.ip_forward, encoding="ascii")
        _remove_created_paths(before, after)
        for path in (self.socket, self.pidfile):
            path.unlink(missing_ok=True)
        shutil.rmtree(self.exec_root, ignore_errors=True)
        return problems


@dataclass(frozen=True)
class _HostState:
    """What dockerd could change on the host, captured before it starts and after it stops."""

    links: frozenset[str]
    iptables: Mapping[str, tuple[str, ...]]
    ip_forward: str | None
    cgroups: frozenset[Path]
    paths: frozenset[Path]
    etc_docker_times: tuple[int, int] | None

    WATCHED_PATHS = (
        "/etc/docker",
        "/etc/docker/key.json",
        "/run/docker",
        "/run/containerd",
        "/run/containerd/s",
        "/var/lib/docker",
        "/var/lib/containerd",
    )

    @classmethod
    def capture(cls) -> _HostState:
        links = subprocess.run(
            ["ip", "-o", "link", "show"], capture_output=True, text=True, check=False
        ).stdout
        iptables: dict[str, tuple[str, ...]] = {}
        for table in ("filter", "nat"):
            result = subprocess.run(
                ["iptables", "-t", table, "-S"], capture_output=True, text=True, check=False
            )
            if result.returncode == 0:
                iptables[table] = tuple(result.stdout.splitlines())
        try:
            ip_forward: str | None = Path("/proc/sys/net/ipv4/ip_forward").read_text(encoding="ascii")
        except OSError:
            ip_forward = None
        cgroups: set[Path] = set()
        if CGROUP_ROOT.is_dir():
            for hierarchy in CGROUP_ROOT.iterdir():
                top = hierarchy / CGROUP_PARENT
                if top.is_dir():
                    cgroups.add(top)
                    cgroups.update(path for path in top.rglob("*") if path.is_dir())
        try:
            stat = os.stat("/etc/docker")
            etc_docker_times: tuple[int, int] | None = (stat.st_atime_ns, stat.st_mtime_ns)
        except OSError:
            etc_docker_times = None
        return cls(
            etc_docker_times=etc_docker_times,
            links=frozenset(re.findall(r"^\d+: ([^:@]+)", links, flags=re.MULTILINE)),
            iptables=iptables,
            ip_forward=ip_forward,
            cgroups=frozenset(cgroups),
            paths=frozenset(Path(path) for path in cls.WATCHED_PATHS if os.path.lexists(path)),
        )


def _remove_created_paths(before: _HostState, after: _HostState) -> None:
    """Files dockerd created outside its roots (its trust key), and directories it (or its containerd)
    created if they hold nothing but empty directories: one something else uses (another containerd's
    /run/containerd) stays."""
    for path in sorted(after.paths - before.paths, key=lambda path: -len(path.parts)):
        if path.is_dir() and not path.is_symlink():
            _remove_empty_tree(path)
        else:
            path.unlink(missing_ok=True)
    if before.etc_docker_times is not None and Path("/etc/docker").is_dir():
        os.utime("/etc/docker", ns=before.etc_docker_times)  # the trust key came and went


def _remove_empty_tree(root: Path) -> None:
    """Removes ``root`` if it holds only (nested) empty directories."""
    for directory, _, _ in sorted(os.walk(root), key=lambda entry: -len(Path(entry[0]).parts)):
        with contextlib.suppress(OSError):
            Path(directory).rmdir()


def _restore_iptables(table: str, before: Sequence[str], after: Sequence[str]) -> list[str]:
    """Deletes dockerd's rules, then its chains (``DOCKER*``), that appeared in ``table``; returns what failed.

    Only dockerd's: a kubelet started meanwhile may be adding its own ``KUBE-*`` rules.
    """
    problems: list[str] = []
    added = [line for line in after if line not in set(before) and "DOCKER" in line]
    for line in added:
        if line.startswith("-A "):
            rule = shlex.split(line)[1:]
            result = subprocess.run(
                ["iptables", "-t", table, "-D", *rule], capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                problems.append(f"iptables -t {table} {line}: {result.stderr.strip()}")
    for line in added:
        if line.startswith("-N "):
            chain = line.split()[1]
            for action in ("-F", "-X"):
                result = subprocess.run(
                    ["iptables", "-t", table, action, chain], capture_output=True, text=True, check=False
                )
                if result.returncode != 0:
                    problems.append(f"iptables -t {table} {action} {chain}: {result.stderr.strip()}")
    return problems


def _our_processes(session: int, roots: Sequence[Path]) -> list[int]:
    """Processes in dockerd's session, or whose command line names one of its directories."""
    found: list[int] = []
    markers = [str(root).encode() for root in roots]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            in_session = os.getsid(int(entry.name)) == session
            command_line = (entry / "cmdline").read_bytes()
        except (OSError, ProcessLookupError):
            continue
        if in_session or any(marker in command_line for marker in markers):
            found.append(int(entry.name))
    return found


def _mounts_under(roots: Sequence[Path]) -> list[str]:
    """Mount points at or below any of ``roots``, in the order the kernel lists them."""
    prefixes = [str(root.resolve()) for root in roots]
    mounts: list[str] = []
    for line in Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines():
        point = line.split()[4].replace("\\040", " ")
        if any(point == prefix or point.startswith(prefix + "/") for prefix in prefixes):
            mounts.append(point)
    return mounts


# ---- build contexts and their digests ----


def _context_digest(context: Path) -> dict[str, str]:
    """Every file ``docker build`` would send from ``context`` (its .dockerignore applied), by content."""
    ignore = context / ".dockerignore"
    patterns = _ignore_patterns(ignore.read_text(encoding="utf-8")) if ignore.is_file() else []
    files: dict[str, str] = {}
    for directory, subdirectories, names in os.walk(context):
        relative_dir = Path(directory).relative_to(context).as_posix()
        prefix = "" if relative_dir == "." else relative_dir + "/"
        kept = []
        for name in sorted(subdirectories):
            path = prefix + name
            if os.path.islink(os.path.join(directory, name)):
                names.append(name)
            elif not (_ignored(path, patterns) and not _may_reinclude(path, patterns)):
                kept.append(name)
        subdirectories[:] = kept
        for name in sorted(names):
            path = prefix + name
            if not _ignored(path, patterns):
                files[path] = _file_digest(Path(directory) / name)
    return files


@dataclass(frozen=True)
class _Pattern:
    text: str
    reincluded: bool
    regex: re.Pattern[str]


def _ignore_patterns(text: str) -> list[_Pattern]:
    """``.dockerignore`` as Docker reads it: ``*``, ``?``, ``**``, ``!`` re-includes, the last match wins."""
    patterns: list[_Pattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        reincluded = line.startswith("!")
        pattern = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
        regex = re.sub(
            r"\*\*/|\*\*|\*|\?|[^*?]+",
            lambda m: {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(m[0], re.escape(m[0])),
            pattern,
        )
        patterns.append(_Pattern(pattern, reincluded, re.compile(regex)))
    return patterns


def _ignored(path: str, patterns: Sequence[_Pattern]) -> bool:
    # A pattern matching a directory applies to everything inside it (Docker's MatchesOrParentMatches).
    parts = path.split("/")
    prefixes = ["/".join(parts[:length]) for length in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        if any(pattern.regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not pattern.reincluded
    return ignored


def _may_reinclude(directory: str, patterns: Sequence[_Pattern]) -> bool:
    """Whether a ``!`` pattern could re-include something below an ignored ``directory``."""
    for pattern in patterns:
        if pattern.reincluded:
            literal = re.split(r"[*?\[]", pattern.text, maxsplit=1)[0]
            if not literal or (directory + "/").startswith(literal) or literal.startswith(directory + "/"):
                return True
    return False


def _hash_files(directory: Path, names: Sequence[str]) -> dict[str, str]:
    return {name: _file_digest(directory / name) for name in names}


def _file_digest(path: Path) -> str:
    """Content and executable bit (COPY keeps modes); a symbolic link by its target."""
    if path.is_symlink():
        return "link:" + os.readlink(path)
    executable = "x" if os.access(path, os.X_OK) else "-"
    return f"{executable}:{_sha256_file(path)}"


def _listing_digest(root: Path, skip: frozenset[str]) -> str:
    """The sha256 of every file's relative path and size below ``root`` (top-level ``skip`` left out)."""
    digest = hashlib.sha256()
    for directory, subdirectories, names in os.walk(root):
        if Path(directory) == root:
            subdirectories[:] = [name for name in subdirectories if name not in skip]
        subdirectories.sort()
        for name in sorted(names):
            path = Path(directory) / name
            digest.update(f"{path.relative_to(root).as_posix()}\0{path.lstat().st_size}\n".encode())
    return digest.hexdigest()


def _link_tree(source: Path, target: Path, skip: frozenset[str]) -> None:
    """A copy of ``source`` made of hard links (same file system), copies where linking fails."""
    for directory, subdirectories, names in os.walk(source):
        if Path(directory) == source:
            subdirectories[:] = [name for name in subdirectories if name not in skip]
        relative = Path(directory).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in names:
            origin = Path(directory) / name
            destination = target / relative / name
            try:
                os.link(origin, destination)
            except OSError:
                shutil.copy2(origin, destination)


def _apt_sources() -> list[Path]:
    """The host's enabled apt sources files (``.list`` and ``.sources``), as apt reads them."""
    found: list[Path] = []
    for location in HOST_APT_SOURCES:
        if location.is_file() and location.read_text(encoding="utf-8").strip():
            found.append(location)
        elif location.is_dir():
            found += sorted(path for path in location.iterdir() if path.suffix in {".list", ".sources"})
    if not found:
        raise ImageBuildError(f"no apt sources in {', '.join(map(str, HOST_APT_SOURCES))}")
    return found


# ---- small helpers ----


def _digest(inputs: Mapping[str, object]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise ImageBuildError(
            f"{what} needs root: building the node's images runs it (cached archives do not)"
        )


def _tool_version(command: Sequence[str]) -> str:
    result = subprocess.run(list(command), capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise ImageBuildError(f"{' '.join(command)} exited with {result.returncode}: {result.stderr}")
    return (result.stdout + result.stderr).strip().splitlines()[0]


def _run(command: Sequence[str], log_file: Path, env: Mapping[str, str] | None = None) -> None:
    """Runs ``command`` with its output appended to ``log_file``; raises with the log's tail on failure."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as output:
        output.write(f"$ {shlex.join(command)}\n".encode())
        output.flush()
        result = subprocess.run(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    if result.returncode != 0:
        raise ImageBuildError(
            f"{shlex.join(command)} exited with {result.returncode} (log: {log_file}):\n{_tail(log_file)}"
        )


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.rename(path)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder per cache directory at a time (parallel test workers wait for the first)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main(argv: Sequence[str] | None = None) -> int:
    """Builds every image (the default Flink versions unless given) and prints the archives' paths."""
    repo_root = Path(__file__).resolve().parents[3]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("versions", nargs="*", default=list(DEFAULT_FLINK_VERSIONS), help="Flink releases")
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: <repo>/.tools/images")
    arguments = parser.parse_args(argv)
    if str(repo_root) not in sys.path:
        sys.path.insert(0, str(repo_root))  # tests.e2e.flink.distribution, when run as a script
    images = build_node_images(repo_root, arguments.versions, arguments.cache_dir)
    for archive in (images.pause, images.operator, *images.flink.values()):
        print(f"{archive.reference}\t{archive.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
