"""A small, faithful fake of the Kubernetes API server's REST surface, for the teardown tests.

This fake stands in for a Kubernetes API server, which cannot be obtained on this machine (no
kube-apiserver, k3s, kind, kwok or envtest in any reachable registry, and Docker does not run). The code
under test uses the real ``kubernetes`` client over real HTTP; only the server side is faked, and it
answers the way the API server does for the calls the teardown makes:

* objects are built from the client's own ``V1*`` models and stored as the JSON the server would send
  (``ApiClient().sanitize_for_serialization``), with ``kind``/``apiVersion``, ``uid``, ``resourceVersion``
  and ``creationTimestamp`` filled in;
* list calls, cluster-wide (``/api/v1/services``) and per namespace, in etcd key order
  (namespace, name), honour ``limit`` and ``continue`` and return ``<Kind>List`` objects; label and field
  selectors and watches are answered 400, so a caller relying on them fails loudly instead of
  silently getting everything;
* get and delete of one object; a missing object is a 404 ``Status`` with reason ``NotFound``; deleting
  an object that has ``metadata.finalizers`` only sets ``deletionTimestamp`` (it stays listed), as the
  server does; deleting a namespace moves it to phase Terminating;
* unknown paths answer the server's 404 ``Status``, other methods 405.

Test hooks: ``vanish_on_delete`` (the object is removed by "someone else" between the list and the
delete: the delete answers 404), ``fail`` (answer a method on a resource with an error status), and
:meth:`FakeKubeApi.reconcile_volumes` (what the PV controller and a CSI provisioner do once a claim is gone).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from werkzeug import Request, Response

# (group, version, plural) -> (Kind, namespaced)
RESOURCES: dict[tuple[str, str, str], tuple[str, bool]] = {
    ("", "v1", "services"): ("Service", True),
    ("", "v1", "persistentvolumeclaims"): ("PersistentVolumeClaim", True),
    ("", "v1", "persistentvolumes"): ("PersistentVolume", False),
    ("", "v1", "namespaces"): ("Namespace", False),
    ("networking.k8s.io", "v1", "ingresses"): ("Ingress", True),
}
_PLURAL = {kind: plural for (_group, _version, plural), (kind, _namespaced) in RESOURCES.items()}
_ALLOWED_QUERY = {"limit", "continue", "pretty", "timeoutSeconds", "resourceVersion", "resourceVersionMatch"}
_PATH = re.compile(r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))/(?P<rest>.+)$")

Key = tuple[str, str, str]  # (plural, namespace or "", name)


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(code: int, reason: str, message: str, *, name: str = "", kind: str = "") -> dict[str, Any]:
    """A ``metav1.Status`` as the API server sends it for errors."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if name or kind:
        body["details"] = {"name": name, "kind": kind}
    return body


@dataclass
class FakeKubeApi:
    """The object store and the request handler (mount :meth:`handle` on a pytest-httpserver)."""

    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    vanish_on_delete: set[Key] = field(default_factory=set)
    fail: dict[tuple[str, str], int] = field(default_factory=dict)
    events: list[str] | None = None
    _versions: itertools.count[int] = field(default_factory=lambda: itertools.count(100))

    # --- the store ------------------------------------------------------------------------------------------

    def add(self, *models: Any) -> None:
        """Store objects built from the client's V1* models, as the server would serve them."""
        for model in models:
            obj: dict[str, Any] = client.ApiClient().sanitize_for_serialization(model)
            kind = type(model).__name__.removeprefix("V1")
            plural = _PLURAL[kind]
            group = next(g for (g, _v, p) in RESOURCES if p == plural)
            obj["kind"] = kind
            obj["apiVersion"] = f"{group}/v1" if group else "v1"
            meta = obj.setdefault("metadata", {})
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", now_rfc3339())
            meta["resourceVersion"] = str(next(self._versions))
            self.objects[(plural, meta.get("namespace", "") if self._namespaced(plural) else "", meta["name"])] = obj

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((plural, namespace, name))

    def names(self, plural: str) -> list[str]:
        """``ns/name`` (or ``name``) of every stored object of a resource, in key order."""
        return [f"{ns}/{name}" if ns else name for (p, ns, name) in sorted(self.objects) if p == plural]

    def remove(self, plural: str, namespace: str, name: str) -> None:
        self.objects.pop((plural, namespace, name), None)

    def finish_deletions(self, plural: str) -> list[str]:
        """What the controllers holding finalizers do once their cleanup is done: every object of ``plural``
        being deleted loses its finalizers and goes away. Returns the names removed."""
        done = []
        for key, obj in list(self.objects.items()):
            if key[0] == plural and obj["metadata"].get("deletionTimestamp"):
                del self.objects[key]
                done.append(f"{key[1]}/{key[2]}" if key[1] else key[2])
        return done

    def reconcile_volumes(self) -> None:
        """What the PV protection, PV and CSI controllers do once nothing uses a deleted claim: the claim
        goes, its volume is Released, and one with reclaim policy Delete is then deleted (with the disk)."""
        self.finish_deletions("persistentvolumeclaims")
        for key, pv in list(self.objects.items()):
            if key[0] != "persistentvolumes":
                continue
            ref = (pv.get("spec") or {}).get("claimRef") or {}
            claim = self.get("persistentvolumeclaims", ref.get("namespace", ""), ref.get("name", ""))
            if not ref or claim is not None:
                continue
            if pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
                del self.objects[key]
            else:
                pv.setdefault("status", {})["phase"] = "Released"

    @staticmethod
    def _namespaced(plural: str) -> bool:
        return next(ns for (_g, _v, p), (_k, ns) in RESOURCES.items() if p == plural)

    # --- HTTP -----------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        line = f"{request.method} {request.path}"
        self.requests.append(line)
        if self.events is not None:
            self.events.append(f"kube {line}")
        match = _PATH.match(request.path)
        if match is None:
            return self._not_found_path(request.path)
        group = match["group"] or ""
        version = match["core"] or match["version"]
        segments = match["rest"].split("/")
        namespace = ""
        if segments[0] == "namespaces" and len(segments) >= 3:
            namespace, segments = segments[1], segments[2:]
        plural, name = segments[0], (segments[1] if len(segments) > 1 else "")
        if (group, version, plural) not in RESOURCES or len(segments) > 2:
            return self._not_found_path(request.path)
        kind, namespaced = RESOURCES[(group, version, plural)]
        if namespace and not namespaced:
            return self._not_found_path(request.path)

        failure = self.fail.get((request.method, plural))
        if failure is not None:
            return self._json(
                status_body(failure, "Forbidden" if failure == 403 else "InternalError", f"{plural} is forbidden"),
                failure,
            )
        if not name:
            if request.method != "GET":
                return self._json(status_body(405, "MethodNotAllowed", "the server does not allow this method"), 405)
            return self._list(request, group, plural, kind, namespace)
        key = (plural, namespace if namespaced else "", name)
        if request.method == "GET":
            obj = self.objects.get(key)
            return self._json(obj, 200) if obj is not None else self._missing(plural, name)
        if request.method == "DELETE":
            return self._delete(request, key, plural, name)
        return self._json(status_body(405, "MethodNotAllowed", "the server does not allow this method"), 405)

    def _list(self, request: Request, group: str, plural: str, kind: str, namespace: str) -> Response:
        unsupported = sorted(set(request.args) - _ALLOWED_QUERY)
        if unsupported:
            message = f"this fake does not implement query parameters {unsupported}"
            return self._json(status_body(400, "BadRequest", message), 400)
        items = [
            obj
            for (p, ns, _name), obj in sorted(self.objects.items())
            if p == plural and (not namespace or ns == namespace)
        ]
        start = int(base64.b64decode(request.args["continue"]).decode()) if "continue" in request.args else 0
        limit = int(request.args.get("limit", "0") or 0)
        end = start + limit if limit > 0 else len(items)
        metadata: dict[str, Any] = {"resourceVersion": str(next(self._versions))}
        if end < len(items):
            metadata["continue"] = base64.b64encode(str(end).encode()).decode()
            metadata["remainingItemCount"] = len(items) - end
        body = {
            "kind": f"{kind}List",
            "apiVersion": f"{group}/v1" if group else "v1",
            "metadata": metadata,
            "items": items[start:end],
        }
        return self._json(body, 200)

    def _delete(self, request: Request, key: Key, plural: str, name: str) -> Response:
        if request.data:
            json.loads(request.data)  # a DeleteOptions body must at least be JSON
        if key in self.vanish_on_delete:
            self.vanish_on_delete.discard(key)
            self.objects.pop(key, None)
            return self._missing(plural, name)
        obj = self.objects.get(key)
        if obj is None:
            return self._missing(plural, name)
        meta = obj["metadata"]
        meta.setdefault("deletionTimestamp", now_rfc3339())
        meta["resourceVersion"] = str(next(self._versions))
        if plural == "namespaces":
            obj.setdefault("status", {})["phase"] = "Terminating"
            return self._json(obj, 200)
        if meta.get("finalizers"):
            return self._json(obj, 200)  # stays until its finalizers are removed
        del self.objects[key]
        return self._json(obj, 200)

    def _missing(self, plural: str, name: str) -> Response:
        return self._json(status_body(404, "NotFound", f'{plural} "{name}" not found', name=name, kind=plural), 404)

    def _not_found_path(self, path: str) -> Response:
        return self._json(status_body(404, "NotFound", "the server could not find the requested resource"), 404)

    @staticmethod
    def _json(body: Any, status: int) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")
