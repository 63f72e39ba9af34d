"""AdmissionReview ``admission.k8s.io/v1``: what makes a request body unusable, and the answer we build.

``review_problem`` says what is wrong with a body before any webhook code reads it, as a short phrase
naming the field, which the server sends back as a 400 (a client's mistake never looks like a failing
webhook). Only ``admission.k8s.io/v1`` reviews are answered, the version the webhook configurations ask
for. The checks are those a webhook needs to read a request safely: ``request`` an object, its
``resource`` made of bounded names (the server may echo one), ``uid`` a string, ``userInfo`` an object
(who asks: an authorisation step reads it), ``object`` an object (``oldObject`` alone only for a
DELETE or CONNECT), ``object``/``oldObject`` objects, at most
``DEPTH_LIMIT`` levels deep (a Kubernetes object has a few dozen; our copies and patches recurse),
their ``metadata`` an object with ``labels``/``annotations`` objects. A body nested past what Python's
JSON reader can recurse into is a problem too, never a crash.

``AdmissionAnswer`` is what a webhook step decides (allowed or denied with a code and a message,
warnings, JSONPatch operations, and whether a fail-open webhook failed); ``review_response`` is the
whole AdmissionReview sent back: the request's ``uid``, ``allowed``, ``status`` of a denial,
``warnings``, and the operations as ``patchType: JSONPatch`` with the patch in base64, as the API
server reads them. Steps compose (``chain``): every step sees the whole request, the first denial wins,
warnings add up.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ADMISSION_REVIEW_VERSION = "admission.k8s.io/v1"
NAME_LIMIT = 253
DEPTH_LIMIT = 100
_WRITES = frozenset({"CREATE", "UPDATE"})

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class AdmissionAnswer:
    """What one webhook step decided about one request."""

    allowed: bool
    message: str = ""
    """A denial's reason (``status.message``); empty when allowed."""
    code: int = 403
    """A denial's HTTP-like code (``status.code``)."""
    warnings: tuple[str, ...] = ()
    patch: tuple[Json, ...] = ()
    """RFC 6902 operations (a mutating webhook's change); empty: no change."""
    failed: bool = False
    """A fail-open webhook could not do its work and admitted anyway (counted as an error)."""

    def with_warnings(self, earlier: Sequence[str]) -> AdmissionAnswer:
        return AdmissionAnswer(
            self.allowed, self.message, self.code, (*earlier, *self.warnings), self.patch, self.failed
        )


AdmissionStep = Callable[[Json], Awaitable[AdmissionAnswer]]
"""One step of a webhook: the review's whole ``request`` (object, operation, ``userInfo``...) to an answer."""


@dataclass(frozen=True, slots=True)
class Chain:
    """Steps run in order on the same request: the first denial is the answer; warnings accumulate.

    Only the last step may patch (the earlier ones judge): their patches are dropped.
    """

    steps: tuple[AdmissionStep, ...] = field(default=())

    async def __call__(self, request: Json) -> AdmissionAnswer:
        warnings: list[str] = []
        answer = AdmissionAnswer(allowed=True)
        for step in self.steps:
            answer = await step(request)
            if not answer.allowed:
                return answer.with_warnings(warnings)
            warnings.extend(answer.warnings)
        return AdmissionAnswer(True, warnings=tuple(warnings), patch=answer.patch, failed=answer.failed)


def chain(*steps: AdmissionStep) -> AdmissionStep:
    """The steps as one (see ``Chain``)."""
    return steps[0] if len(steps) == 1 else Chain(steps)


def review_response(request: Mapping[str, Any], answer: AdmissionAnswer) -> Json:
    """The AdmissionReview answering ``request`` (the review's ``request``) with ``answer``."""
    response: Json = {"uid": request.get("uid", ""), "allowed": answer.allowed}
    if not answer.allowed:
        response["status"] = {"code": answer.code, "message": answer.message}
    if answer.warnings:
        response["warnings"] = list(answer.warnings)
    if answer.patch:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(json.dumps(list(answer.patch)).encode()).decode("ascii")
    return {"apiVersion": ADMISSION_REVIEW_VERSION, "kind": "AdmissionReview", "response": response}


def parse_review(raw: bytes) -> tuple[Json | None, str | None]:
    """The review's ``request`` and ``None``, or ``None`` and what makes ``raw`` unusable."""
    try:
        review = json.loads(raw.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError too
        return None, "not UTF-8 JSON"
    except RecursionError:  # Python's JSON reader recurses: a thousand nested brackets end it
        return None, "nested too deeply to be read"
    if not isinstance(review, Mapping):
        return None, "not a JSON object"
    if review.get("apiVersion") != ADMISSION_REVIEW_VERSION or review.get("kind") != "AdmissionReview":
        return None, f"expected an AdmissionReview of {ADMISSION_REVIEW_VERSION}"
    request = review.get("request")
    if not isinstance(request, dict):
        return None, "request: expected an object"
    problem = _request_problem(request)
    return (None, problem) if problem is not None else (request, None)


def review_problem(raw: bytes) -> str | None:
    """What makes ``raw`` unusable as an AdmissionReview request, or ``None``."""
    return parse_review(raw)[1]


def _request_problem(request: Mapping[str, Any]) -> str | None:
    resource = request.get("resource")
    if not isinstance(resource, Mapping):
        return "request.resource: expected an object"
    for key in ("group", "version", "resource"):
        value = resource.get(key)
        if not isinstance(value, str) or len(value) > NAME_LIMIT or (key != "group" and not value):
            return f"request.resource.{key}: expected a name of at most {NAME_LIMIT} characters"
    for key in ("object", "oldObject"):
        problem = _object_problem(request.get(key), f"request.{key}")
        if problem is not None:
            return problem
    if not isinstance(request.get("uid", ""), str):
        return "request.uid: expected a string"
    if not isinstance(request.get("userInfo"), Mapping):
        return "request.userInfo: expected an object"
    operation = request.get("operation", "")
    if not isinstance(operation, str):
        return "request.operation: expected a string"
    if request.get("object") is None and (operation in _WRITES or request.get("oldObject") is None):
        return "request.object: expected an object"
    return None


def _object_problem(obj: object, path: str) -> str | None:
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        return f"{path}: expected an object"
    if _deeper_than(obj, DEPTH_LIMIT):
        return f"{path}: nested more than {DEPTH_LIMIT} levels deep"
    metadata = obj.get("metadata", {})
    if not isinstance(metadata, Mapping):
        return f"{path}.metadata: expected an object"
    for key in ("labels", "annotations"):
        if not isinstance(metadata.get(key) or {}, Mapping):
            return f"{path}.metadata.{key}: expected an object"
    return None


def _deeper_than(value: object, limit: int) -> bool:
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, Mapping):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return False
