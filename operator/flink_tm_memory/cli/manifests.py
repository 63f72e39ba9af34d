"""Kubernetes manifests from files and directories, for the offline ``check`` and ``render`` commands.

A GitOps repository holds YAML (or JSON) files, several documents per file, in nested directories.
Every ``*.yaml``, ``*.yml`` and ``*.json`` file under a directory is read, in path order; a file that
cannot be read or parsed is reported (with its path and YAML's own position) and the others are still
read. A document that is not a mapping (an empty document, a comment-only one) is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flink_tm_memory.api.v1alpha1 import KIND

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True, slots=True)
class Manifest:
    """One document: where it is (``path#index``, counting from 0) and what it holds."""

    source: str
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind") or "")

    @property
    def name(self) -> str:
        return str((self.body.get("metadata") or {}).get("name") or "")

    @property
    def namespace(self) -> str | None:
        namespace = (self.body.get("metadata") or {}).get("namespace")
        return str(namespace) if namespace else None


@dataclass(frozen=True, slots=True)
class Manifests:
    """Every document read, and one line per file that could not be read."""

    documents: tuple[Manifest, ...]
    errors: tuple[str, ...]

    def memory_resources(self) -> list[Manifest]:
        return [document for document in self.documents if document.kind == KIND]

    def workload(self, kind: str, name: str, namespace: str | None) -> Manifest | None:
        """The manifest of a workload a resource targets (same kind and name; same namespace when both say)."""
        for document in self.documents:
            same_namespace = namespace is None or document.namespace in (None, namespace)
            if document.kind == kind and document.name == name and same_namespace:
                return document
        return None


def read_manifests(paths: Sequence[str]) -> Manifests:
    documents: list[Manifest] = []
    errors: list[str] = []
    for path in _files(paths, errors):
        try:
            documents.extend(_documents(path))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            errors.append(f"{path}: {error}")
        except Exception as error:  # yaml.YAMLError and its kin: the file, then YAML's own words
            errors.append(f"{path}: {' '.join(str(error).split())}")
    return Manifests(tuple(documents), tuple(errors))


def _files(paths: Sequence[str], errors: list[str]) -> Iterator[Path]:
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from sorted(
                found for found in path.rglob("*") if found.is_file() and found.suffix in SUFFIXES
            )
        elif path.is_file():
            yield path
        else:
            errors.append(f"{given}: no such file or directory")


def _documents(path: Path) -> Iterator[Manifest]:
    import yaml  # JSON is YAML too; imported only for these commands

    text = path.read_text(encoding="utf-8")
    for index, body in enumerate(yaml.safe_load_all(text)):
        if isinstance(body, dict):
            yield Manifest(f"{path}#{index}", body)
