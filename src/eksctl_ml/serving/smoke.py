"""The smoke-inference gate: is this Triton serving, right now, every model it should?

:func:`run_smoke` checks, against one running server (any :class:`~eksctl_ml.adapters.triton.protocol.TritonClient`):

1. the server is live and ready (waiting up to ``timeout_s`` while it starts or models load);
2. every model to check is READY: the given ones, or (``models=None``) every model the repository index
   lists; a model listed UNAVAILABLE fails with Triton's reason, one missing from the repository fails;
3. ONE inference per model, with inputs built from the model's own metadata: each input's datatype and
   shape, variable dimensions resolved (the batch dimension of a batching model to 1, others to
   :data:`VARIABLE_DIM_SIZE`), BYTES included; every output the metadata declares is requested and its
   name, datatype and shape are checked against the metadata (an empty output is a failure);
4. with a metrics URL, ``nv_inference_request_success{model=...}`` rises after that inference;
5. a latency figure per model: the client-side wall time of that one inference, in ms.

It never raises for a failing server: every failure is in the :class:`SmokeReport`, naming the model and
carrying the server's own message. ``report.to_check_result()`` is the Triton phase's gate verdict.
Models with sequence batching or decoupled transactions are not covered (one stateless request each).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from eksctl_ml.adapters.triton.protocol import ModelState, Tensor, TritonClient
from eksctl_ml.engine.phase import CheckResult
from eksctl_ml.errors import TritonError

SUCCESS_METRIC = "nv_inference_request_success"
"""Triton's per-model counter of successful requests (labels ``model``, ``version``)."""
VARIABLE_DIM_SIZE = 2
"""What a variable (-1) dimension other than the batch dimension becomes in the smoke request."""
POLL_INTERVAL_S = 0.5
METRICS_WAIT_S = 5.0
"""How long the success counter may lag the inference (Triton updates it as the request completes)."""
_TRANSIENT_STATES = frozenset({"LOADING", "UNLOADING"})

Progress = Callable[[str], None]


@dataclass(frozen=True)
class OutputCheck:
    """One output as the server returned it, after it matched the metadata."""

    name: str
    datatype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class ModelSmoke:
    """The verdict on one model."""

    name: str
    version: str = ""
    ok: bool = False
    latency_ms: float | None = None
    """Client-side wall time of the smoke inference."""
    detail: str = ""
    """What failed (with the server's own message), or a short description of what passed."""
    outputs: tuple[OutputCheck, ...] = ()
    metrics_delta: float | None = None
    """How much ``nv_inference_request_success`` rose after the inference (None: not checked)."""


@dataclass
class SmokeReport:
    """The smoke gate's result for one server."""

    url: str
    live: bool = False
    ready: bool = False
    models: list[ModelSmoke] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Failures not tied to one model (unreachable, not live/ready, no models, metrics endpoint)."""
    skipped: list[str] = field(default_factory=list)
    """Models in the repository index the server was not asked to load (index mode only)."""
    metrics_checked: bool = False
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.live and self.ready and not self.problems and bool(self.models) and all(m.ok for m in self.models)

    @property
    def failures(self) -> list[str]:
        """Every failure, one line each: server-level problems, then ``model: detail``."""
        return self.problems + [f"model {m.name}: {m.detail}" for m in self.models if not m.ok]

    def to_check_result(self) -> CheckResult:
        if self.ok:
            figures = ", ".join(f"{m.name} {m.latency_ms:.1f} ms" for m in self.models if m.latency_ms is not None)
            metrics = "" if self.metrics_checked else " (metrics not checked)"
            return CheckResult.ready(f"smoke inference ok on {len(self.models)} model(s): {figures}{metrics}")
        failed = [m.name for m in self.models if not m.ok]
        summary = f"smoke inference failed on model(s) {', '.join(failed)}" if failed else "smoke inference failed"
        if self.problems:
            summary += f": {self.problems[0].splitlines()[0]}"
        return CheckResult.not_ready(summary, "\n".join(self.failures))

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["ok"] = self.ok
        return document


def run_smoke(
    client: TritonClient,
    models: Sequence[str] | None,
    *,
    timeout_s: float = 120,
    progress: Progress | None = None,
) -> SmokeReport:
    """Smoke-test ``client``'s server: see the module docstring. ``models=None`` takes the repository index."""
    say: Progress = progress or (lambda _message: None)
    started = time.monotonic()
    report = SmokeReport(url=client.endpoint.url)
    try:
        names = _wait_until_ready(client, models, timeout_s, report, say)
        if names is not None:
            _check_models(client, names, report, say)
    except TritonError as exc:
        report.problems.append(_describe(exc))
    report.duration_s = time.monotonic() - started
    return report


# --- waiting ------------------------------------------------------------------------------------


def _wait_until_ready(
    client: TritonClient,
    models: Sequence[str] | None,
    timeout_s: float,
    report: SmokeReport,
    say: Progress,
) -> list[str] | None:
    """Poll until the server is live and ready and the models settled; the model names to infer on.

    Settled failures (UNAVAILABLE, not in the repository, never loaded) are recorded at once instead of
    waiting for a state explicit model control never leaves by itself. None when nothing is left to check.
    """
    deadline = time.monotonic() + timeout_s
    while not client.is_server_live():
        if time.monotonic() > deadline:
            report.problems.append(f"server at {client.endpoint.url} is not live after {timeout_s:g}s")
            return None
        time.sleep(POLL_INTERVAL_S)
    report.live = True
    say("server live")

    while True:
        index = merge_index(client.repository_index())
        wanted = list(models) if models is not None else sorted(n for n, st in index.items() if _loaded(st))
        settled, waiting = _settle(client, wanted, index)
        report.ready = client.is_server_ready()
        if not waiting and (report.ready or _explains_not_ready(index)):
            break
        if time.monotonic() > deadline:
            for name in waiting:
                state = index[name].state if name in index else ""
                settled[name] = f"not ready after {timeout_s:g}s (state {state or 'unknown'})"
            break
        time.sleep(POLL_INTERVAL_S)

    failed = {name: reason for name, reason in settled.items() if reason}
    report.models.extend(
        ModelSmoke(name=name, version=index[name].version if name in index else "", detail=reason)
        for name, reason in failed.items()
    )
    if not report.ready:
        report.problems.append(_not_ready_reason(index, failed))
    else:
        say("server ready")
    if models is None:
        report.skipped = sorted(name for name, entry in index.items() if not _loaded(entry))
    if not wanted:
        report.problems.append(
            "the repository index lists no loaded model: nothing to infer on (load one, or name it with --model)"
        )
    return [name for name in wanted if name not in failed]


_PREFERENCE = {"READY": 0, "LOADING": 1, "UNLOADING": 2, "UNAVAILABLE": 3}


def merge_index(states: Sequence[ModelState]) -> dict[str, ModelState]:
    """One entry per model name. The index lists each version: during a reload the old one shows
    UNLOADING next to the new READY one. A READY version wins, then one in transition, then a failure."""
    merged: dict[str, ModelState] = {}
    for state in states:
        current = merged.get(state.name)
        rank = _PREFERENCE.get(state.state, 4)
        if current is None or rank < _PREFERENCE.get(current.state, 4):
            merged[state.name] = state
    return merged


def _loaded(entry: ModelState) -> bool:
    """Whether the server was asked to serve this model: an index entry with a state other than "unloaded".

    In explicit model control the index also lists every model folder nobody loaded (no state) and the
    ones unloaded on purpose (UNAVAILABLE, reason "unloaded"); those are not failures of the server.
    """
    return bool(entry.state) and not (entry.state == "UNAVAILABLE" and entry.reason.strip() == "unloaded")


def _settle(
    client: TritonClient, wanted: Sequence[str], index: Mapping[str, ModelState]
) -> tuple[dict[str, str], list[str]]:
    """Per model: "" (ready), a failure reason (settled), or still waiting (LOADING...)."""
    settled: dict[str, str] = {}
    waiting: list[str] = []
    for name in wanted:
        entry = index.get(name)
        if entry is None:
            settled[name] = "not in the server's model repository (check the name and the repository contents)"
        elif entry.state in _TRANSIENT_STATES:
            waiting.append(name)
        elif not _loaded(entry):
            settled[name] = (
                "not loaded (the server uses explicit model control: load it, e.g. list it in triton.models)"
            )
        elif entry.state == "UNAVAILABLE":
            settled[name] = f"UNAVAILABLE: {entry.reason or 'no reason given'}"
        elif entry.state != "READY":
            settled[name] = f"in state {entry.state}: {entry.reason or 'no reason given'}"
        elif not client.is_model_ready(name):
            waiting.append(name)
        else:
            settled[name] = ""
    return settled, waiting


def _explains_not_ready(index: Mapping[str, ModelState]) -> bool:
    """A not-ready server whose index shows a model that failed to load will stay not ready."""
    return any(state.state == "UNAVAILABLE" and _loaded(state) for state in index.values())


def _not_ready_reason(index: Mapping[str, ModelState], failed: Mapping[str, str]) -> str:
    broken = [
        f"{s.name} ({s.reason.splitlines()[0] if s.reason else 'UNAVAILABLE'})"
        for s in index.values()
        if s.state == "UNAVAILABLE" and _loaded(s)
    ]
    if broken:
        return f"server is not ready: model(s) failed to load: {'; '.join(broken)}"
    return "server is not ready (live, but /v2/health/ready says no)"


# --- one inference per model ----------------------------------------------------------------------


def _check_models(client: TritonClient, names: Sequence[str], report: SmokeReport, say: Progress) -> None:
    metrics = _MetricsProbe(client) if client.endpoint.metrics_url else None
    report.metrics_checked = metrics is not None
    if metrics is not None:
        try:
            metrics.read()
        except TritonError as exc:
            report.problems.append(f"metrics endpoint: {_describe(exc)}")
            metrics = None
    for name in names:
        result = _check_model(client, name, metrics)
        report.models.append(result)
        say(f"{name}: {'ok' if result.ok else 'FAILED'} — {result.detail}")


def _check_model(client: TritonClient, name: str, metrics: _MetricsProbe | None) -> ModelSmoke:
    try:
        metadata = client.model_metadata(name)
        config = client.model_config(name)
    except TritonError as exc:
        return ModelSmoke(name=name, detail=_describe(exc))
    versions = [str(v) for v in metadata.get("versions") or []]
    version = max(versions, key=_version_key) if versions else ""
    try:
        inputs = build_inputs(metadata, config)
    except ValueError as exc:
        return ModelSmoke(name=name, version=version, detail=str(exc))
    expected = list(metadata.get("outputs") or [])
    before: float | None = None
    if metrics is not None:
        try:
            before = metrics.count(name)
        except TritonError as exc:
            return ModelSmoke(name=name, version=version, detail=f"metrics endpoint: {_describe(exc)}")
    started = time.perf_counter()
    try:
        answered = client.infer(name, inputs, [str(o["name"]) for o in expected])
    except TritonError as exc:
        return ModelSmoke(name=name, version=version, detail=_describe(exc))
    latency_ms = (time.perf_counter() - started) * 1000
    batch = int(config.get("max_batch_size") or 0) > 0
    mismatches, checked = check_outputs(expected, answered, batch)
    if mismatches:
        return ModelSmoke(name, version, False, latency_ms, "; ".join(mismatches), tuple(checked))
    delta = None
    if metrics is not None:
        problem, delta = _metrics_rose(metrics, name, before)
        if problem:
            return ModelSmoke(name, version, False, latency_ms, problem, tuple(checked))
    shapes = ", ".join(f"{o.name} {o.datatype} {list(o.shape)}" for o in checked)
    return ModelSmoke(name, version, True, latency_ms, f"{len(inputs)} input(s) → {shapes}", tuple(checked), delta)


def _metrics_rose(metrics: _MetricsProbe, name: str, before: float | None) -> tuple[str, float | None]:
    """("", rise) when the success counter rose after the inference, else (the problem, rise)."""
    series = f"{SUCCESS_METRIC}{{model={name!r}}}"
    if before is None:
        return f"the metrics endpoint has no {series}: is it the metrics endpoint of this server?", None
    try:
        delta = metrics.wait_for_rise(name, before)
    except TritonError as exc:
        return f"metrics endpoint: {_describe(exc)}", None
    if delta <= 0:
        return f"{series} did not rise after a successful inference (stayed at {before:g})", delta
    return "", delta


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (-1, version)


def build_inputs(metadata: Mapping[str, Any], config: Mapping[str, Any]) -> list[Tensor]:
    """One request's inputs from the model's metadata (and ``max_batch_size`` from its config).

    Metadata shapes of a batching model include the batch dimension (-1) first: it becomes 1; any other
    -1 becomes :data:`VARIABLE_DIM_SIZE`. Values are small and deterministic (ids stay in 0..3, so an
    embedding lookup does not go out of range). ValueError for a datatype this gate cannot build.
    """
    import numpy as np

    batching = int(config.get("max_batch_size") or 0) > 0
    tensors = []
    for spec in metadata.get("inputs") or []:
        name, datatype = str(spec["name"]), str(spec["datatype"])
        dims = [int(d) for d in spec.get("shape") or []]
        shape = tuple(
            (1 if batching and position == 0 else VARIABLE_DIM_SIZE) if dim < 0 else dim
            for position, dim in enumerate(dims)
        )
        size = math.prod(shape)
        if datatype == "BYTES":
            data = np.array([b"mlplat-smoke"] * size, dtype=np.object_).reshape(shape)
        elif datatype == "BOOL":
            data = (np.arange(size) % 2 == 0).reshape(shape)
        elif datatype in _NUMPY_TYPES:
            kind = np.dtype(_NUMPY_TYPES[datatype])
            values = np.arange(size) % 4 if kind.kind in "iu" else np.linspace(0.0, 1.0, size)
            data = values.astype(kind).reshape(shape)
        else:
            raise ValueError(f"input {name!r}: datatype {datatype} is not supported by the smoke gate")
        tensors.append(Tensor(name=name, datatype=datatype, shape=shape, data=data))
    return tensors


_NUMPY_TYPES = {
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
}


def check_outputs(
    expected: Sequence[Mapping[str, Any]], answered: Sequence[Tensor], batching: bool
) -> tuple[list[str], list[OutputCheck]]:
    """Compare what came back with the metadata: (mismatches, outputs as returned)."""
    got = {tensor.name: tensor for tensor in answered}
    mismatches: list[str] = []
    checked: list[OutputCheck] = []
    for spec in expected:
        name, datatype = str(spec["name"]), str(spec["datatype"])
        dims = [int(d) for d in spec.get("shape") or []]
        tensor = got.get(name)
        if tensor is None:
            mismatches.append(f"output {name!r} is missing from the response")
            continue
        checked.append(OutputCheck(name, tensor.datatype, tuple(tensor.shape)))
        if tensor.datatype != datatype:
            mismatches.append(f"output {name!r} is {tensor.datatype}, the metadata says {datatype}")
        if not _shape_matches(dims, tensor.shape, batching):
            mismatches.append(f"output {name!r} has shape {list(tensor.shape)}, the metadata says {dims}")
        elif math.prod(tensor.shape) == 0 or (tensor.data is not None and getattr(tensor.data, "size", 1) == 0):
            mismatches.append(f"output {name!r} is empty (shape {list(tensor.shape)})")
    return mismatches, checked


def _shape_matches(dims: Sequence[int], shape: Sequence[int], batching: bool) -> bool:
    if len(dims) != len(shape):
        return False
    for position, (want, have) in enumerate(zip(dims, shape, strict=True)):
        if batching and position == 0:
            if have != 1:  # one request of batch 1 was sent
                return False
        elif want >= 0 and want != have:
            return False
    return True


# --- metrics --------------------------------------------------------------------------------------

_SAMPLE = re.compile(r"^(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)")
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metric(text: str, metric: str) -> list[tuple[dict[str, str], float]]:
    """Every sample of ``metric`` in a Prometheus text exposition: (labels, value)."""
    samples = []
    for line in text.splitlines():
        if not line.startswith(metric):
            continue
        match = _SAMPLE.match(line)
        if match is None or match["name"] != metric:
            continue
        labels = {
            key: value.replace('\\"', '"').replace("\\\\", "\\") for key, value in _LABEL.findall(match["labels"] or "")
        }
        try:
            samples.append((labels, float(match["value"])))
        except ValueError:
            continue
    return samples


class _MetricsProbe:
    """Reads the success counter of one model from the metrics endpoint, summed over versions."""

    def __init__(self, client: TritonClient) -> None:
        self.client = client
        self.text = ""

    def read(self) -> str:
        self.text = self.client.metrics_text()
        return self.text

    def count(self, model: str) -> float | None:
        samples = [v for labels, v in parse_metric(self.read(), SUCCESS_METRIC) if labels.get("model") == model]
        return sum(samples) if samples else None

    def wait_for_rise(self, model: str, before: float) -> float:
        deadline = time.monotonic() + METRICS_WAIT_S
        while True:
            now = self.count(model) or 0.0  # a model unloaded meanwhile has no series: no rise
            if now > before or time.monotonic() > deadline:
                return now - before
            time.sleep(0.2)


def _describe(exc: TritonError) -> str:
    text = str(exc)
    return f"{text} (hint: {exc.hint})" if exc.hint else text
