"""A faithful fake of the Kubernetes API server, on loopback, for the real ``kubernetes`` client.

This fake stands in for a Kubernetes API server, which cannot be obtained on this machine (no
kube-apiserver, k3s, kind, kwok or envtest is installable here, and Docker does not run). The code under
test talks to it with the official client (``kubernetes.client.ApiClient`` over urllib3), exactly as it
talks to EKS; only the server is simulated.

What it reproduces of the real API server:

- the real URL layout: ``/api/v1/namespaces/{ns}/pods``, ``/apis/apps/v1/namespaces/{ns}/deployments/{name}``,
  cluster-scoped ``/api/v1/nodes`` and ``/apis/apiextensions.k8s.io/v1/customresourcedefinitions``,
  ``/apis/batch/v1/...``, ``/apis/discovery.k8s.io/v1/...``, ``pods/{name}/log``, ``/version``;
- objects are the client's own ``V1*`` models, serialised with ``ApiClient().sanitize_for_serialization``;
  every write bumps a global ``resourceVersion`` (and ``generation`` of a changed spec is the caller's);
- lists (``kind: <Kind>List``, ``metadata.resourceVersion``) with ``labelSelector`` (``=``, ``!=``, ``in``,
  ``notin``, exists) and ``fieldSelector`` (only the field labels the real server supports per kind;
  others get the real ``400 field label not supported``);
- ``?watch=true`` streams: chunked JSON lines ``{"type": "ADDED|MODIFIED|DELETED", "object": ...}`` of
  every change after ``resourceVersion``, held open until ``timeoutSeconds``; a ``BOOKMARK`` before
  closing when ``allowWatchBookmarks=true``; an ``ERROR`` event with a ``410 Expired`` Status when the
  requested resourceVersion is older than the compacted history (:meth:`FakeKubeApi.compact`);
- errors as ``Status`` bodies (``403 Forbidden``, ``404 NotFound``, ``500``...), injectable per request
  (:meth:`FakeKubeApi.fail`);
- pod logs (``tailLines``, ``container``, ``previous``; ``400`` when there is no previous container);
- writes of Namespaces and Secrets (``POST`` create: ``201``, ``409 AlreadyExists``, ``404`` when the
  namespace is missing; ``PUT`` replace; ``DELETE``: ``200`` with a success ``Status``, ``404`` when absent);
- the service proxy, ``/api/v1/namespaces/{ns}/services/{name}:{port}/proxy/{path}``: answered by a handler a
  test registers per (namespace, service, port) with :meth:`FakeKubeApi.serve_proxy`; an unregistered service
  gets the API server's own ``503 no endpoints available for service`` Status.

Scripted transitions happen without sleeping: :meth:`FakeKubeApi.when_watched` queues actions that run
when the next watch of a kind arrives (after the client's initial list), so "not ready, then ready
through a watch event" is deterministic.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from kubernetes import client
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SERVER_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.3-eks-4096722",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}

DEFAULT_WATCH_TIMEOUT_S = 30.0

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines in test output


class _Server(HTTPServer):
    """pytest-httpserver's server, stopping in milliseconds (its default poll makes stop() take 0.5 s)."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.02)


@dataclass(frozen=True)
class Resource:
    kind: str
    plural: str
    prefix: str  # "/api/v1" or "/apis/<group>/<version>"
    namespaced: bool
    field_labels: frozenset[str] = frozenset()

    @property
    def api_version(self) -> str:
        return "v1" if self.prefix == "/api/v1" else self.prefix.removeprefix("/apis/")


_COMMON_FIELDS = frozenset({"metadata.name", "metadata.namespace"})
RESOURCES = [
    Resource("Namespace", "namespaces", "/api/v1", False, frozenset({"status.phase"})),
    Resource(
        "Pod",
        "pods",
        "/api/v1",
        True,
        frozenset(
            {
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            }
        ),
    ),
    Resource(
        "Event",
        "events",
        "/api/v1",
        True,
        frozenset(
            {
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            }
        ),
    ),
    Resource("Node", "nodes", "/api/v1", False, frozenset({"spec.unschedulable"})),
    Resource("PersistentVolumeClaim", "persistentvolumeclaims", "/api/v1", True),
    Resource("Service", "services", "/api/v1", True),
    Resource("Endpoints", "endpoints", "/api/v1", True),
    Resource("Deployment", "deployments", "/apis/apps/v1", True),
    Resource("DaemonSet", "daemonsets", "/apis/apps/v1", True),
    Resource("StatefulSet", "statefulsets", "/apis/apps/v1", True),
    Resource("ReplicaSet", "replicasets", "/apis/apps/v1", True, frozenset({"status.replicas"})),
    Resource("Job", "jobs", "/apis/batch/v1", True, frozenset({"status.successful"})),
    Resource("CustomResourceDefinition", "customresourcedefinitions", "/apis/apiextensions.k8s.io/v1", False),
    Resource("EndpointSlice", "endpointslices", "/apis/discovery.k8s.io/v1", True),
    Resource("Secret", "secrets", "/api/v1", True, frozenset({"type"})),
]
WRITABLE_KINDS = frozenset({"Namespace", "Secret"})
"""Kinds the fake accepts POST/PUT/DELETE for (everything else answers 405)."""
_PROXY_PATH = re.compile(
    r"^/api/v1/namespaces/(?P<ns>[^/]+)/services/(?P<svc>[^/:]+):(?P<port>[^/]+)/proxy(?P<path>/.*)?$"
)

ProxyHandler = Callable[[str, dict[str, str]], Response]
"""Answers one proxied GET: ``(path below /proxy, query arguments) -> werkzeug Response``."""
BY_KIND = {resource.kind: resource for resource in RESOURCES}
BY_PATH = {(resource.prefix, resource.plural): resource for resource in RESOURCES}

_MODEL_PREFIX = re.compile(r"^(Core)?V\d+((alpha|beta)\d+)?")
_SERIALIZER = client.ApiClient()


def serialize(model: Any) -> dict[str, Any]:
    """The JSON the API server would send for a client model (``sanitize_for_serialization``)."""
    data = _SERIALIZER.sanitize_for_serialization(model)
    assert isinstance(data, dict), f"not an object: {model!r}"
    return data


def kind_of(model: Any) -> str:
    return _MODEL_PREFIX.sub("", type(model).__name__)


def status_body(code: int, reason: str, message: str, **details: Any) -> dict[str, Any]:
    """A ``Status`` object, built with the client's own ``V1Status`` model."""
    status = client.V1Status(
        api_version="v1",
        kind="Status",
        metadata=client.V1ListMeta(),
        status="Failure",
        message=message,
        reason=reason,
        code=code,
        details=client.V1StatusDetails(**details) if details else None,
    )
    return serialize(status)


@dataclass
class Change:
    rv: int
    type: str
    kind: str
    obj: dict[str, Any]


@dataclass
class Failure:
    method: str
    path: re.Pattern[str]
    status: int
    reason: str
    message: str
    watch: bool | None
    times: int


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]

    @property
    def is_watch(self) -> bool:
        return self.query.get("watch") in ("true", "1")


@dataclass
class _Log:
    current: str = ""
    previous: str | None = None


class FakeKubeApi:
    """The fake server's state and its HTTP front (``url`` is the base for ``Configuration(host=...)``)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._history: list[Change] = []
        self._rv = 1000
        self._compacted = 0
        self._closed = False
        self._hooks: dict[str, deque[Callable[[], None]]] = defaultdict(deque)
        self._drops: dict[str, int] = defaultdict(int)
        self._failures: list[Failure] = []
        self._logs: dict[tuple[str, str, str | None], _Log] = {}
        self.requests: list[RecordedRequest] = []
        self.open_watches = 0
        self._proxies: dict[tuple[str, str, str], ProxyHandler] = {}
        self._server = _Server(host="127.0.0.1", port=0, threaded=True)
        self._server.no_handler_status_code = 500
        self._server.expect_request(re.compile(r"^/.*")).respond_with_handler(self._dispatch)

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FakeKubeApi:
        self._server.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._server.stop()
        self._server.check_handler_errors()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    # -- state ---------------------------------------------------------------------------------------

    def put(self, *models: Any) -> None:
        """Create or replace objects (V1* models), as a controller's update would; watchers see each change."""
        for model in models:
            self._put(kind_of(model), serialize(model))

    def delete(self, kind: str, namespace: str, name: str) -> None:
        with self._lock:
            obj = copy.deepcopy(self._objects.pop((kind, namespace if BY_KIND[kind].namespaced else "", name)))
            self._rv += 1
            obj["metadata"]["resourceVersion"] = str(self._rv)
            self._history.append(Change(self._rv, "DELETED", kind, obj))
            self._lock.notify_all()

    def _put(self, kind: str, obj: dict[str, Any]) -> None:
        resource = BY_KIND[kind]
        meta = obj.setdefault("metadata", {})
        if resource.namespaced:
            meta.setdefault("namespace", "default")
        else:
            meta.pop("namespace", None)
        key = (kind, meta.get("namespace", ""), meta["name"])
        obj["apiVersion"] = resource.api_version
        obj["kind"] = kind
        with self._lock:
            previous = self._objects.get(key)
            meta.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(key))))
            meta.setdefault(
                "creationTimestamp",
                (previous or {}).get("metadata", {}).get("creationTimestamp")
                or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            if kind not in ("Event", "Node", "Pod", "PersistentVolumeClaim", "Service", "Endpoints", "EndpointSlice"):
                meta.setdefault("generation", 1)
            self._rv += 1
            meta["resourceVersion"] = str(self._rv)
            self._objects[key] = obj
            self._history.append(Change(self._rv, "MODIFIED" if previous else "ADDED", kind, obj))
            self._lock.notify_all()

    def compact(self) -> None:
        """Forget the change history, as etcd compaction does: older resourceVersions now answer 410."""
        with self._lock:
            self._compacted = self._rv
            self._history.clear()

    def when_watched(self, kind: str, *actions: Callable[[], None]) -> None:
        """Run each action when the next watch of ``kind`` arrives (one action per watch request)."""
        self._hooks[kind].extend(actions)

    def drop_next_watch(self, kind: str) -> None:
        """Cut the next watch of ``kind`` after its first batch of events, as a load balancer dropping an idle
        connection does (the chunked response ends without its final chunk)."""
        self._drops[kind] += 1

    def wait_for_watch(self, timeout_s: float = 5.0) -> None:
        """Block until a watch is open (for tests that act while a wait is watching)."""
        with self._lock:
            if not self._lock.wait_for(lambda: self.open_watches > 0, timeout_s):
                raise AssertionError(f"no watch was opened within {timeout_s}s")

    def fail(
        self,
        path: str,
        status: int,
        *,
        reason: str = "",
        message: str = "",
        method: str = "GET",
        watch: bool | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests whose path matches ``path`` (a regex) with a Status error.

        ``watch``: only watch requests (True), only non-watch requests (False), or both (None).
        """
        self._failures.append(
            Failure(method, re.compile(path), status, reason or _REASONS.get(status, "Unknown"), message, watch, times)
        )

    def set_log(
        self, namespace: str, pod: str, text: str, *, container: str | None = None, previous: str | None = None
    ) -> None:
        """What ``pods/{pod}/log`` returns (``previous``: the previous run's log, for ``previous=true``)."""
        self._logs[(namespace, pod, container)] = _Log(text, previous)

    def serve_proxy(self, namespace: str, service: str, port: int | str, handler: ProxyHandler) -> None:
        """Answer ``/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy/...`` with ``handler``
        (replacing any handler registered before for the same service port)."""
        self._proxies[(namespace, service, str(port))] = handler

    def stored(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored JSON of an object (a copy), or None when it does not exist."""
        with self._lock:
            obj = self._objects.get((kind, namespace if BY_KIND[kind].namespaced else "", name))
            return copy.deepcopy(obj) if obj is not None else None

    def watch_requests(self, plural: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.is_watch and r.path.endswith(plural)]

    def list_requests(self, plural: str) -> list[RecordedRequest]:
        return [r for r in self.requests if not r.is_watch and r.path.endswith(plural)]

    # -- HTTP ------------------------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Response:
        query = {key: request.args[key] for key in request.args}
        record = RecordedRequest(request.method, request.path, query)
        with self._lock:
            self.requests.append(record)
        injected = self._injected_failure(record)
        if injected is not None:
            return injected
        if request.path.rstrip("/") == "/version":
            return _json(SERVER_VERSION)
        proxied = _PROXY_PATH.fullmatch(request.path)
        if proxied is not None:
            return self._proxy(request.method, proxied, query)
        route = _route(request.path)
        if route is None:
            return _error(404, "NotFound", "the server could not find the requested resource")
        resource, namespace, name, sub = route
        if request.method in ("POST", "PUT", "DELETE") and resource.kind in WRITABLE_KINDS and sub is None:
            return self._write(request.method, resource, namespace, name, request.get_data())
        if request.method != "GET":
            return _error(405, "MethodNotAllowed", f"{request.method} is not supported by this fake")
        if name is None:
            if record.is_watch:
                return self._watch(resource, namespace, query, request.environ.get("werkzeug.socket"))
            return self._list(resource, namespace, query)
        if sub == "log" and resource.kind == "Pod":
            return self._log(namespace or "", name, query)
        if sub not in (None, "status"):
            return _error(404, "NotFound", "the server could not find the requested resource")
        with self._lock:
            obj = self._objects.get((resource.kind, namespace or "", name))
        if obj is None:
            group = resource.prefix.removeprefix("/apis/").split("/")[0] if resource.prefix != "/api/v1" else ""
            qualified = f"{resource.plural}.{group}" if group else resource.plural
            return _error(
                404, "NotFound", f'{qualified} "{name}" not found', name=name, group=group, kind=resource.plural
            )
        return _json(obj)

    def _injected_failure(self, record: RecordedRequest) -> Response | None:
        with self._lock:
            for failure in self._failures:
                if failure.method != record.method or not failure.path.search(record.path):
                    continue
                if failure.watch is not None and failure.watch != record.is_watch:
                    continue
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return _error(failure.status, failure.reason, failure.message)
        return None

    def _list(self, resource: Resource, namespace: str | None, query: dict[str, str]) -> Response:
        try:
            matches = _matcher(resource, query)
        except ValueError as exc:
            return _error(400, "BadRequest", str(exc))
        with self._lock:
            items = [
                obj
                for (kind, ns, _), obj in sorted(self._objects.items())
                if kind == resource.kind and (namespace is None or ns == namespace) and matches(obj)
            ]
            rv = self._rv
        return _json(
            {
                "apiVersion": resource.api_version,
                "kind": f"{resource.kind}List",
                "metadata": {"resourceVersion": str(rv)},
                "items": items,
            }
        )

    def _watch(
        self, resource: Resource, namespace: str | None, query: dict[str, str], connection: socket.socket | None
    ) -> Response:
        try:
            matches = _matcher(resource, query)
        except ValueError as exc:
            return _error(400, "BadRequest", str(exc))
        hooks = self._hooks[resource.kind]
        if hooks:
            hooks.popleft()()
        drop = self._drops[resource.kind] > 0
        if drop:
            self._drops[resource.kind] -= 1
        timeout = float(query.get("timeoutSeconds", DEFAULT_WATCH_TIMEOUT_S))
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        since = query.get("resourceVersion") or None

        def relevant(change: Change) -> bool:
            ns = change.obj["metadata"].get("namespace")
            return change.kind == resource.kind and (namespace is None or ns == namespace) and matches(change.obj)

        def stream() -> Iterator[bytes]:
            deadline = time.monotonic() + timeout
            with self._lock:
                self.open_watches += 1
                self._lock.notify_all()
                cursor = self._rv
                if since is not None and int(since) < self._compacted:
                    expired = status_body(410, "Expired", f"too old resource version: {since} ({self._compacted})")
                    pending: list[tuple[str, dict[str, Any]]] = [("ERROR", expired)]
                    deadline = 0.0
                elif since is None:  # no resourceVersion: synthetic ADDED events of the current state
                    pending = [
                        ("ADDED", obj)
                        for (kind, ns, _), obj in sorted(self._objects.items())
                        if kind == resource.kind and (namespace is None or ns == namespace) and matches(obj)
                    ]
                else:
                    cursor = int(since)
                    pending = []
            try:
                while True:
                    for event_type, obj in pending:
                        yield (json.dumps({"type": event_type, "object": obj}) + "\n").encode()
                    if drop and connection is not None:  # reset the TCP connection mid-response
                        connection.shutdown(socket.SHUT_RDWR)
                        return
                    if deadline == 0.0:  # the ERROR event ends the stream
                        return
                    if time.monotonic() >= deadline:
                        break
                    with self._lock:
                        while True:
                            changes = [change for change in self._history if change.rv > cursor]
                            if changes or self._closed:
                                break
                            remaining = deadline - time.monotonic()
                            if remaining <= 0:
                                break
                            self._lock.wait(remaining)
                        if not changes:
                            break
                        cursor = changes[-1].rv
                        pending = [(change.type, change.obj) for change in changes if relevant(change)]
                if bookmarks and not self._closed:
                    with self._lock:
                        mark = {
                            "kind": resource.kind,
                            "apiVersion": resource.api_version,
                            "metadata": {"resourceVersion": str(self._rv)},
                        }
                    yield (json.dumps({"type": "BOOKMARK", "object": mark}) + "\n").encode()
            finally:
                with self._lock:
                    self.open_watches -= 1

        return Response(stream(), status=200, mimetype="application/json")

    def _proxy(self, method: str, match: re.Match[str], query: dict[str, str]) -> Response:
        namespace, service, port = match["ns"], match["svc"], match["port"]
        handler = self._proxies.get((namespace, service, port))
        if handler is None:
            return _error(503, "ServiceUnavailable", f'no endpoints available for service "{service}"')
        if method != "GET":
            return _error(405, "MethodNotAllowed", f"{method} through the proxy is not supported by this fake")
        return handler(match["path"] or "/", query)

    def _write(self, method: str, resource: Resource, namespace: str | None, name: str | None, body: bytes) -> Response:
        """Create (POST to the collection), replace (PUT) or delete (DELETE) one object, as the API server does."""
        group = ""
        if method in ("POST", "PUT"):
            try:
                obj = json.loads(body or b"{}")
            except ValueError:
                return _error(400, "BadRequest", "the request body is not JSON")
            if not isinstance(obj, dict) or obj.get("kind") not in (None, resource.kind):
                return _error(400, "BadRequest", f"the body is not a {resource.kind}")
            meta = obj.setdefault("metadata", {})
            if method == "POST":
                if name is not None:
                    return _error(405, "MethodNotAllowed", "POST goes to the collection")
                name = meta.get("name")
            if not name or meta.get("name", name) != name:
                return _error(400, "BadRequest", "metadata.name is missing or does not match the URL")
            meta["name"] = name
            if resource.namespaced:
                meta["namespace"] = namespace
        if name is None:
            return _error(405, "MethodNotAllowed", f"{method} needs an object name")
        key = (resource.kind, namespace or "", name)
        with self._lock:
            exists = key in self._objects
            namespace_missing = resource.namespaced and ("Namespace", "", namespace or "") not in self._objects
        if method == "POST" and resource.namespaced and namespace_missing:
            return _error(404, "NotFound", f'namespaces "{namespace}" not found', name=namespace, kind="namespaces")
        if method == "POST" and exists:
            return _error(
                409, "AlreadyExists", f'{resource.plural} "{name}" already exists', name=name, kind=resource.plural
            )
        if method in ("PUT", "DELETE") and not exists:
            return _error(404, "NotFound", f'{resource.plural} "{name}" not found', name=name, kind=resource.plural)
        if method == "DELETE":
            self.delete(resource.kind, namespace or "", name)
            status = client.V1Status(api_version="v1", kind="Status", metadata=client.V1ListMeta(), status="Success")
            return _json(serialize(status) | {"details": {"name": name, "group": group, "kind": resource.plural}})
        for field in ("resourceVersion", "uid", "creationTimestamp", "generation"):
            obj["metadata"].pop(field, None)  # server-owned fields
        self._put(resource.kind, obj)
        with self._lock:
            stored = copy.deepcopy(self._objects[key])
        return _json(stored, status=201 if method == "POST" else 200)

    def _log(self, namespace: str, pod: str, query: dict[str, str]) -> Response:
        with self._lock:
            exists = ("Pod", namespace, pod) in self._objects
        if not exists:
            return _error(404, "NotFound", f'pods "{pod}" not found', name=pod, kind="pods")
        container = query.get("container")
        log = self._logs.get((namespace, pod, container)) or self._logs.get((namespace, pod, None)) or _Log()
        if query.get("previous") in ("true", "1"):
            if log.previous is None:
                return _error(
                    400,
                    "BadRequest",
                    f'previous terminated container "{container}" in pod "{pod}" not found',
                )
            text = log.previous
        else:
            text = log.current
        lines = text.splitlines(keepends=True)
        if "tailLines" in query:
            lines = lines[-int(query["tailLines"]) :] if int(query["tailLines"]) > 0 else []
        return Response("".join(lines), status=200, mimetype="text/plain")


# --- helpers ------------------------------------------------------------------------------------

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    410: "Expired",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


def _json(data: Any, status: int = 200) -> Response:
    # Go's net/http status line ("403 Forbidden"), not werkzeug's upper-case default
    return Response(json.dumps(data), status=f"{status} {HTTPStatus(status).phrase}", mimetype="application/json")


def _error(code: int, reason: str, message: str, **details: Any) -> Response:
    return _json(status_body(code, reason, message, **details), status=code)


def _route(path: str) -> tuple[Resource, str | None, str | None, str | None] | None:
    """``(resource, namespace, name, subresource)`` of an API path, None for unknown paths."""
    match = re.fullmatch(r"(/api/v1|/apis/[^/]+/[^/]+)((?:/[^/]+)*)", path)
    if match is None:
        return None
    prefix, rest = match.group(1), [part for part in match.group(2).split("/") if part]
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    resource = BY_PATH.get((prefix, rest[0]))
    if resource is None or (namespace is not None and not resource.namespaced):
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    return resource, namespace, name, sub


def _matcher(resource: Resource, query: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    fields = _parse_field_selector(resource, query.get("fieldSelector", ""))
    labels = _parse_label_selector(query.get("labelSelector", ""))

    def matches(obj: dict[str, Any]) -> bool:
        for path, op, value in fields:
            actual = _dig(obj, path)
            if (actual == value) != (op == "="):
                return False
        obj_labels = obj.get("metadata", {}).get("labels") or {}
        return all(test(obj_labels) for test in labels)

    return matches


def _parse_field_selector(resource: Resource, selector: str) -> list[tuple[str, str, str]]:
    terms = []
    for term in filter(None, (part.strip() for part in selector.split(","))):
        match = re.fullmatch(r"([\w.]+)\s*(==|=|!=)\s*(.*)", term)
        if match is None:
            raise ValueError(f"invalid field selector: {term!r}")
        path, op, value = match.groups()
        if path not in _COMMON_FIELDS | resource.field_labels:
            raise ValueError(f"field label not supported: {path}")
        terms.append((path, "!=" if op == "!=" else "=", value))
    return terms


def _dig(obj: dict[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, bool):
        return "true" if node else "false"
    return "" if node is None else str(node)


def _parse_label_selector(selector: str) -> list[Callable[[dict[str, str]], bool]]:
    tests: list[Callable[[dict[str, str]], bool]] = []
    for term in re.findall(r"[^,(]+(?:\([^)]*\))?", selector):
        term = term.strip()
        if not term:
            continue
        if match := re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", term):
            key, op, raw = match.groups()
            values = {value.strip() for value in raw.split(",")}
            if op == "in":
                tests.append(lambda labels, k=key, v=values: labels.get(k) in v)
            else:
                tests.append(lambda labels, k=key, v=values: labels.get(k) not in v)
        elif match := re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)", term):
            key, op, value = match.groups()
            if op == "!=":
                tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif match := re.fullmatch(r"(!?)([\w./-]+)", term):
            negate, key = match.groups()
            tests.append(lambda labels, k=key, n=bool(negate): (k in labels) != n)
        else:
            raise ValueError(f"unable to parse requirement: {term!r}")
    return tests
