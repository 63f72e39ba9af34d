# The operator image, built by `make image`; checked statically by tests/meta/test_dockerfile.py.
#
# The pod runs with a read-only root filesystem, as a non-root user, with every capability dropped: the
# image writes nothing at run time (bytecode is compiled here) and needs no root.

# Both stages use the same base: the venv's interpreter is a symlink to the base image's Python. The
# default is the official image; a Debian one with python3, python3-venv, python3-pip and
# python-is-python3 from Debian's packages builds as well (the e2e node's, tests/e2e/node/images.py).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---- build: the project and its runtime dependencies, in a venv of their own ----
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# A venv without pip: the base image's pip installs into it, so no installer is copied into the image.
RUN python -m venv --without-pip /opt/venv

WORKDIR /src

# The runtime dependencies exactly as requirements.lock pins them (`make lock`), every file checked
# against the lock's hashes and nothing resolved here: a changed or substituted file on the index
# fails the build. The project itself follows without dependencies, and `pip check` proves the locked
# set satisfies what pyproject.toml asks for.
COPY requirements.lock ./
RUN python -m pip --python /opt/venv/bin/python install --no-cache-dir --no-compile \
        --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY operator/ operator/

# `.`, not `.[dev]`: the test and lint tools stay out. The bytecode is compiled with unchecked hashes, so
# Python never compares it with the sources' timestamps, whatever the build does to them.
RUN python -m pip --python /opt/venv/bin/python install --no-cache-dir --no-compile --no-deps . \
    && python -m pip --python /opt/venv/bin/python check \
    && python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/venv

# ---- sbom: a CycloneDX SBOM of the venv the image runs, made by a tool that stays in this stage ----
FROM build AS sbom

COPY requirements-sbom.lock ./
RUN python -m venv --without-pip /opt/sbom-tool \
    && python -m pip --python /opt/sbom-tool/bin/python install --no-cache-dir \
        --require-hashes --no-deps -r requirements-sbom.lock \
    && /opt/sbom-tool/bin/cyclonedx-py environment --pyproject pyproject.toml --output-reproducible \
        --output-format JSON --output-file /src/sbom.cdx.json /opt/venv

# ---- runtime: the base image, a non-root user and the venv, nothing else ----
FROM ${PYTHON_IMAGE}

LABEL org.opencontainers.image.title="flink-tm-memory-operator" \
      org.opencontainers.image.description="Kubernetes operator that derives Apache Flink TaskManager memory exactly as Flink does" \
      org.opencontainers.image.source="https://github.com/flink-tm-memory/flink-tm-memory-operator" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    HOME=/home/nonroot

# The operator needs no installer at run time: pip (and setuptools and wheel, where the base has them)
# goes, removed by whoever installed it. In the official images pip installed itself into /usr/local and
# uninstalls itself. On a Debian python base (python3 from Debian's packages, as the e2e node's image
# is) pip is python3-pip, owned by dpkg, and refuses to touch it (PEP 668, externally-managed-environment):
# dpkg purges it there. The official images ship the standard library without bytecode; compiled here, a
# read-only root costs nothing at start (Debian's packages compile their own, in /usr/lib, when they are
# installed). 65532 is the usual "nonroot" id (distroless, Chainguard). The image runs as any other id
# too (OpenShift's restricted-v2 assigns one from the namespace's range, with group 0): everything it
# reads is world-readable, and its home (the working directory) belongs to group 0 as well.
RUN if dpkg-query --show --showformat='${db:Status-Status}' python3-pip 2>/dev/null | grep -qx installed; then \
        dpkg --purge python3-pip python3-setuptools python3-wheel; \
    else \
        python -m pip uninstall --yes --quiet pip setuptools wheel; \
    fi \
    && python -m compileall -q -j 0 --invalidation-mode unchecked-hash /usr/local/lib \
    && groupadd --system --gid 65532 nonroot \
    && useradd --system --uid 65532 --gid 65532 --home-dir /home/nonroot --create-home \
        --shell /usr/sbin/nologin nonroot \
    && chown 65532:0 /home/nonroot && chmod 0775 /home/nonroot

COPY --from=build /opt/venv /opt/venv
# The SBOM travels with the image (scanners and `docker cp` find it here); `make image` and the e2e
# build also write it next to the image.
COPY --from=sbom /src/sbom.cdx.json /usr/share/doc/flink-tm-memory-operator/sbom.cdx.json

WORKDIR /home/nonroot
USER 65532:65532

# 8080: kopf's liveness endpoint; 8081: metrics and readiness (/metrics, /readyz); 9443: the admission webhooks.
EXPOSE 8080 8081 9443

ENTRYPOINT ["flink-tm-memory"]
CMD ["run"]
