"""`mlplat models validate|push|list`: the Triton model repository of an env.

* :func:`validate` checks a repository folder (no env needed).
* :func:`push` validates, uploads to the env's model bucket/prefix (nothing is uploaded when validation
  fails), then asks the running Triton to load/reload each pushed model and waits until it is READY.
* :func:`list_models` shows what the bucket holds next to Triton's repository index.

Where models go: the storage phase's output ``model_bucket_name`` in the journal when the env has one
(the bucket Terraform really built), else ``model_repository.s3_bucket``; the prefix is
``model_repository.prefix``. Which Triton: ``--triton-url`` when given, else the env's Triton Service
(``triton/triton:http``) through the Kubernetes API server's service proxy. An emulator env with no
Kubernetes API has no Triton to reach: the reload is skipped with a note.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eksctl_ml.config.loader import Environment
from eksctl_ml.errors import ConfigError, ConfigIssue, MlplatError, TritonError, UsageError
from eksctl_ml.services.deps import Dependencies
from eksctl_ml.serving.repository import RepositoryReport, validate_repository

if TYPE_CHECKING:
    from eksctl_ml.adapters import Adapters
    from eksctl_ml.adapters.triton.protocol import ModelState, TritonClient, TritonEndpoint
    from eksctl_ml.serving.push import ProgressFn, PushResult, StoredModel

TritonFactory = Callable[["TritonEndpoint"], "TritonClient"]
DEFAULT_RELOAD_TIMEOUT_S = 300.0
_POLL_S = 0.5


class RepositoryInvalidError(ConfigError):
    """The model repository has errors; nothing was uploaded. Carries every problem."""

    def __init__(self, report: RepositoryReport) -> None:
        issues = [ConfigIssue(file=p.path, path=p.model, message=p.message, fix=p.fix) for p in report.errors]
        super().__init__(
            f"model repository {report.root} has {len(report.errors)} error(s); nothing was uploaded",
            issues,
            hint=f"run `mlplat models validate {report.root}` to see them with the warnings",
        )
        self.report = report

    def __str__(self) -> str:
        lines = [self.message] + [f"  - {p.path}: {p.message}\n    fix: {p.fix}" for p in self.report.errors]
        return "\n".join(lines)


def validate(path: Path) -> RepositoryReport:
    """Check the repository folder ``path`` (UsageError when it is not a folder)."""
    if not path.is_dir():
        raise UsageError(
            f"model repository {path} is not a folder",
            hint="give the folder holding one sub-folder per model (e.g. examples/model-repository)",
        )
    return validate_repository(path)


@dataclass(frozen=True)
class ModelTarget:
    """Where an env's models live in S3, and where that was read."""

    bucket: str
    prefix: str
    source: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def model_target(env: Environment, deps: Dependencies, adapters: Adapters) -> ModelTarget:
    """The env's model bucket and prefix: the storage phase's outputs in the journal win over the config."""
    repo = env.config.model_repository
    journal = deps.store(env, deps.workdir(env), adapters).read_journal()
    outputs = journal.outputs().get("storage", {}) if journal is not None else {}
    bucket = outputs.get("model_bucket_name")
    prefix = outputs.get("model_prefix") or repo.prefix
    if isinstance(bucket, str) and bucket:
        return ModelTarget(bucket, str(prefix), "journal: storage output model_bucket_name")
    return ModelTarget(repo.s3_bucket, repo.prefix, "config: model_repository.s3_bucket")


@dataclass(frozen=True)
class ReloadResult:
    """One model's load/reload on Triton."""

    model: str
    ready: bool
    seconds: float
    state: str = ""
    reason: str = ""


@dataclass
class PushReport:
    repository: RepositoryReport
    target: ModelTarget
    result: PushResult
    triton_url: str = ""
    reloads: list[ReloadResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed_reloads(self) -> list[ReloadResult]:
        return [r for r in self.reloads if not r.ready]

    def reload_error(self) -> TritonError | None:
        """The error to exit with when a model did not become READY (None when all did)."""
        failed = self.failed_reloads
        if not failed:
            return None
        return TritonError(
            f"{len(failed)} pushed model(s) not READY on Triton at {self.triton_url}: "
            + ", ".join(r.model for r in failed),
            detail="\n".join(f"{r.model}: {r.state or 'not ready'}: {r.reason}" for r in failed),
            hint="the upload itself succeeded; fix the cause and push again (unchanged files are skipped)",
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "repository": self.repository.root,
            "target": asdict(self.target) | {"url": self.target.url},
            "push": self.result.as_dict(),
            "warnings": [asdict(p) for p in self.repository.warnings],
            "triton_url": self.triton_url,
            "reload": [asdict(r) for r in self.reloads],
            "notes": self.notes,
            "ok": not self.failed_reloads,
        }


def _default_triton(endpoint: TritonEndpoint) -> TritonClient:
    from eksctl_ml.adapters.triton.client import HttpTritonClient

    return HttpTritonClient(endpoint)


def _triton_endpoint(
    env: Environment, adapters: Adapters, triton_url: str | None, timeout_s: float
) -> tuple[TritonEndpoint | None, str]:
    """The Triton to talk to, or (None, why not)."""
    from eksctl_ml.adapters.triton.protocol import TritonEndpoint

    if triton_url:
        return TritonEndpoint(url=triton_url, timeout_s=timeout_s), ""
    from eksctl_ml.releases.service import no_kubernetes_api

    reason = no_kubernetes_api(env)
    if reason:
        return None, f"{reason}; pass --triton-url URL to reach a Triton directly"
    from eksctl_ml.adapters.kubernetes.proxy import service_proxy_endpoint
    from eksctl_ml.releases.endpoints import TRITON_HTTP

    proxy = service_proxy_endpoint(
        adapters.kubernetes.api_client, TRITON_HTTP.namespace, TRITON_HTTP.name, TRITON_HTTP.port
    )
    return (
        TritonEndpoint(
            url=proxy.url,
            headers=dict(proxy.headers),
            ca_file=proxy.ca_file,
            verify_tls=proxy.verify_tls,
            timeout_s=timeout_s,
        ),
        "",
    )


def reload_models(
    client: TritonClient,
    models: list[str],
    *,
    timeout_s: float = DEFAULT_RELOAD_TIMEOUT_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[ReloadResult]:
    """Ask Triton to load (or re-read and reload) each model, and wait until it is READY.

    A failure is recorded per model with the server's own reason and never stops the others.
    """
    return [_reload_one(client, model, timeout_s, clock, sleep) for model in models]


def _reload_one(
    client: TritonClient, model: str, timeout_s: float, clock: Callable[[], float], sleep: Callable[[float], None]
) -> ReloadResult:
    started = clock()
    try:
        client.load_model(model)  # explicit model control: returns when Triton has (re)loaded or failed
    except TritonError as exc:
        return ReloadResult(model, False, clock() - started, "UNAVAILABLE", _reason(exc))
    deadline = started + timeout_s
    while True:
        try:
            if client.is_model_ready(model):
                return ReloadResult(model, True, clock() - started, "READY")
        except TritonError as exc:
            return ReloadResult(model, False, clock() - started, "unreachable", _reason(exc))
        if clock() >= deadline:
            break
        sleep(_POLL_S)
    state, reason = _index_state(client, model)
    return ReloadResult(model, False, clock() - started, state or "not ready", reason or f"not READY in {timeout_s:g}s")


def _reason(exc: TritonError) -> str:
    return f"{exc.message}{f' ({exc.detail})' if exc.detail else ''}"


def _index_state(client: TritonClient, model: str) -> tuple[str, str]:
    try:
        entries = [entry for entry in client.repository_index() if entry.name == model]
    except TritonError as exc:
        return "", _reason(exc)
    for entry in entries:
        if entry.state != "READY":
            return entry.state, entry.reason
    return (entries[0].state, entries[0].reason) if entries else ("", "not in Triton's repository index")


def push(
    env: Environment,
    deps: Dependencies,
    path: Path,
    *,
    prune: bool = False,
    reload: bool = True,
    triton_url: str | None = None,
    timeout_s: float = DEFAULT_RELOAD_TIMEOUT_S,
    progress: ProgressFn | None = None,
    triton: TritonFactory | None = None,
) -> PushReport:
    """Validate ``path``, upload it to the env's model prefix, then reload the pushed models on Triton.

    Raises RepositoryInvalidError (exit 2, nothing uploaded) when validation finds errors, AwsError when
    S3 refuses. A model that does not become READY is reported in the result (see ``reload_error``).
    """
    from eksctl_ml.serving.push import push_repository

    report = validate(path)
    if not report.ok:
        raise RepositoryInvalidError(report)
    adapters = deps.build_adapters(env)
    target = model_target(env, deps, adapters)
    models = [m.name for m in report.models]
    result = push_repository(
        adapters.aws.client("s3"), target.bucket, target.prefix, path, models, prune=prune, progress=progress
    )
    pushed = PushReport(report, target, result)
    unlisted = [m for m in models if m not in env.config.triton.models]
    if unlisted:
        pushed.notes.append(
            f"not in triton.models of env {env.name}: {', '.join(unlisted)} (a restarted Triton will not load "
            "them; add them to the env file)"
        )
    if not reload:
        pushed.notes.append("reload skipped (--no-reload): Triton serves what it had loaded")
        return pushed
    endpoint, why_not = _triton_endpoint(env, adapters, triton_url, max(timeout_s, 30.0))
    if endpoint is None:
        pushed.notes.append(f"reload skipped: {why_not}")
        return pushed
    pushed.triton_url = endpoint.url
    pushed.reloads = reload_models((triton or _default_triton)(endpoint), models, timeout_s=timeout_s)
    return pushed


@dataclass
class ModelListing:
    """The bucket's models next to Triton's repository index."""

    target: ModelTarget
    stored: list[StoredModel]
    triton_url: str = ""
    triton: list[ModelState] | None = None
    triton_note: str = ""

    def rows(self) -> list[dict[str, Any]]:
        """One row per model in the bucket or on Triton: storage figures and Triton's states."""
        states: dict[str, list[ModelState]] = {}
        for entry in self.triton or []:
            states.setdefault(entry.name, []).append(entry)
        names = sorted({m.name for m in self.stored} | set(states))
        stored = {m.name: m for m in self.stored}
        rows = []
        for name in names:
            model = stored.get(name)
            rows.append(
                {
                    "name": name,
                    "in_bucket": model is not None,
                    "versions": list(model.versions) if model else [],
                    "files": model.files if model else 0,
                    "size": model.size if model else 0,
                    "last_modified": model.last_modified if model else "",
                    "triton": [
                        {"version": s.version, "state": s.state, "reason": s.reason} for s in states.get(name, [])
                    ]
                    if self.triton is not None
                    else None,
                }
            )
        return rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": asdict(self.target) | {"url": self.target.url},
            "triton_url": self.triton_url,
            "triton_note": self.triton_note,
            "models": self.rows(),
        }


def list_models(
    env: Environment,
    deps: Dependencies,
    *,
    triton_url: str | None = None,
    timeout_s: float = 15.0,
    triton: TritonFactory | None = None,
) -> ModelListing:
    """What the env's model prefix holds and, when Triton answers, its repository index beside it.
    An unreachable Triton is a note, not a failure: the bucket listing is still the answer."""
    from eksctl_ml.serving.push import list_stored_models

    adapters = deps.build_adapters(env)
    target = model_target(env, deps, adapters)
    listing = ModelListing(target, list_stored_models(adapters.aws.client("s3"), target.bucket, target.prefix))
    try:
        endpoint, why_not = _triton_endpoint(env, adapters, triton_url, timeout_s)
    except MlplatError as exc:
        endpoint, why_not = None, f"Triton not reachable: {exc.message}"
    if endpoint is None:
        listing.triton_note = why_not
        return listing
    listing.triton_url = endpoint.url
    try:
        listing.triton = (triton or _default_triton)(endpoint).repository_index()
    except MlplatError as exc:
        listing.triton_note = f"Triton not reachable: {exc.message}"
    return listing
