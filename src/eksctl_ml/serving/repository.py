"""Check a Triton model repository on disk before it is pushed: `mlplat models validate DIR`.

Contract: :func:`validate_repository` never stops at the first problem. It returns a
:class:`RepositoryReport` with one :class:`ModelSummary` per model folder and every :class:`Problem`
found, each naming the file (``config.pbtxt:LINE:COL`` for syntax errors) and the fix. Errors are what
Triton would refuse (or silently ignore, which is worse); warnings are what it tolerates.

``config.pbtxt`` is parsed with Triton's own model-config protobuf (``tritonclient`` ships
``model_config_pb2``), so a field name or enum value Triton does not know is an error here too. The
platform/backend pair is resolved the way Triton's auto-complete does (``platform: "onnxruntime_onnx"``
and ``backend: "onnxruntime"`` are the same model kind), limited to the four kinds mlplat serves.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning"]

CONFIG_FILE = "config.pbtxt"
WILDCARD_DIM = -1
DOCS = (
    "https://docs.nvidia.com/deeplearning/triton-inference-server/user-guide/docs/user_guide/model_configuration.html"
)
# Folder names end up in URLs (/v2/models/<name>) and S3 keys: keep them plain.
_MODEL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# Top-level files that document a repository rather than stray into it.
_DOC_FILES = re.compile(r"(README|LICENSE|NOTICE)(\..*)?", re.IGNORECASE)


@dataclass(frozen=True)
class ModelKind:
    """One of the four model kinds mlplat serves: Triton's platform name, backend name and model file."""

    platform: str
    backend: str
    filename: str
    directory_ok: bool = False
    """ONNX models with external weights may be a folder named ``model.onnx``."""


KINDS: dict[str, ModelKind] = {
    "onnxruntime": ModelKind("onnxruntime_onnx", "onnxruntime", "model.onnx", directory_ok=True),
    "tensorrt": ModelKind("tensorrt_plan", "tensorrt", "model.plan"),
    "pytorch": ModelKind("pytorch_libtorch", "pytorch", "model.pt"),
    "python": ModelKind("", "python", "model.py"),
}
"""By backend name. The python backend has no platform in Triton (``platform: "python"`` is refused)."""
_BY_PLATFORM = {kind.platform: kind for kind in KINDS.values() if kind.platform}
_BY_FILENAME = {kind.filename: kind for kind in KINDS.values()}
SUPPORTED = 'platform "onnxruntime_onnx", "tensorrt_plan" or "pytorch_libtorch", or backend "python"'


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the repository: where (a file or folder, ``file:line:col`` for syntax
    errors), what, and how to fix it."""

    path: str
    message: str
    fix: str
    severity: Severity = "error"
    model: str = ""
    """The model folder it belongs to ("" for the repository itself)."""

    def render(self) -> str:
        return f"{self.path}: {self.severity}: {self.message}\n    fix: {self.fix}"


@dataclass(frozen=True)
class TensorSpec:
    """An input or output as config.pbtxt declares it (``data_type`` is Triton's enum name, ``TYPE_FP32``)."""

    name: str
    data_type: str
    dims: tuple[int, ...]

    def render(self) -> str:
        return f"{self.name} {self.data_type.removeprefix('TYPE_')} [{', '.join(map(str, self.dims))}]"


@dataclass(frozen=True)
class ModelSummary:
    """What one model folder holds, as far as it could be read."""

    name: str
    path: str
    platform: str = ""
    """Resolved kind: ``onnxruntime_onnx``, ``tensorrt_plan``, ``pytorch_libtorch`` or ``python``; "" when unknown."""
    versions: tuple[int, ...] = ()
    model_filename: str = ""
    max_batch_size: int = 0
    inputs: tuple[TensorSpec, ...] = ()
    outputs: tuple[TensorSpec, ...] = ()
    ok: bool = True
    """No error in this model folder (warnings allowed)."""


@dataclass(frozen=True)
class RepositoryReport:
    """Every model and every problem of one repository."""

    root: str
    models: list[ModelSummary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "ok": self.ok,
            "models": [asdict(m) for m in self.models],
            "problems": [asdict(p) for p in self.problems],
        }


class _Collector:
    """Problems of one model folder, with paths shown under the repository root the user named."""

    def __init__(self, root: Path, model: str) -> None:
        self.root = root
        self.model = model
        self.problems: list[Problem] = []

    def path(self, *parts: str) -> str:
        return str(self.root.joinpath(*parts))

    def error(self, where: str, message: str, fix: str) -> None:
        self.problems.append(Problem(where, message, fix, "error", self.model))

    def warning(self, where: str, message: str, fix: str) -> None:
        self.problems.append(Problem(where, message, fix, "warning", self.model))

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.name != "__pycache__"


def validate_repository(root: Path) -> RepositoryReport:
    """Check every model folder under ``root``; see the module docstring. ``root`` must be a folder
    (the caller reports a missing one as a usage error)."""
    report = RepositoryReport(str(root))
    top = _Collector(root, "")
    entries = sorted((p for p in root.iterdir() if _visible(p)), key=lambda p: p.name)
    folders = [p for p in entries if p.is_dir()]
    for stray in (p for p in entries if not p.is_dir()):
        if not _DOC_FILES.fullmatch(stray.name):
            top.warning(
                top.path(stray.name),
                "not a model folder: Triton ignores files at the top of a repository and push does not upload it",
                "move it out of the repository, or into a model folder if a model needs it",
            )
    if not folders:
        top.error(
            str(root),
            "no model folders: a Triton repository holds one folder per model",
            f"add MODEL/{CONFIG_FILE} and MODEL/1/<model file> (see {DOCS})",
        )
    report.problems.extend(top.problems)
    for folder in folders:
        summary, problems = _check_model(root, folder)
        report.models.append(summary)
        report.problems.extend(problems)
    return report


def _check_model(root: Path, folder: Path) -> tuple[ModelSummary, list[Problem]]:
    name = folder.name
    out = _Collector(root, name)
    if not _MODEL_NAME.fullmatch(name):
        out.error(
            out.path(name),
            f"model name {name!r} has characters that break URLs and S3 keys",
            "rename the folder with letters, digits, '_', '-' and '.' only (at most 128, not starting with '.' or '-')",
        )
    versions, version_dirs = _check_version_folders(folder, out)
    config_path = folder / CONFIG_FILE
    config = _parse_config(config_path, out)
    summary = ModelSummary(name=name, path=out.path(name), versions=tuple(versions))
    if config is not None:
        summary = _check_config(config, summary, version_dirs, out)
    return _finish(summary, out), out.problems


def _finish(summary: ModelSummary, out: _Collector) -> ModelSummary:
    return replace(summary, ok=not out.failed)


def _check_version_folders(folder: Path, out: _Collector) -> tuple[list[int], dict[int, Path]]:
    name = folder.name
    version_dirs: dict[int, Path] = {}
    for child in sorted(p for p in folder.iterdir() if _visible(p) and p.is_dir()):
        label = child.name
        if label.isdigit() and not label.startswith("0"):
            version_dirs[int(label)] = child
        else:
            out.error(
                out.path(name, label),
                f"{label!r} is not a version folder: Triton loads only folders named with a positive integer "
                "(no leading zero) and silently ignores this one",
                "rename it to the version number it holds (e.g. 1), or move it out of the model folder",
            )
    if not version_dirs:
        out.error(
            out.path(name),
            "no version folder: Triton needs at least one (1/, 2/, ...) holding the model file",
            f"create {name}/1/ and put the model file in it",
        )
    return sorted(version_dirs), version_dirs


def _parse_config(path: Path, out: _Collector) -> Any:
    """The parsed ``ModelConfig`` message, or None (with a problem recorded)."""
    from google.protobuf import text_format  # type: ignore[import-untyped]  # no types-protobuf in dev extras
    from tritonclient.grpc import model_config_pb2

    name = path.parent.name
    if not path.is_file():
        out.error(
            out.path(name, CONFIG_FILE),
            f"missing {CONFIG_FILE}: mlplat needs it to know the model's platform, inputs and outputs",
            f"write {name}/{CONFIG_FILE} with platform (or backend), max_batch_size, input and output (see {DOCS})",
        )
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        out.error(out.path(name, CONFIG_FILE), f"cannot read it: {exc}", "make it a readable UTF-8 text file")
        return None
    config = model_config_pb2.ModelConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as exc:
        line, column = exc.GetLine(), exc.GetColumn()
        message = re.sub(r"^\d+:\d+ : ", "", str(exc))
        where = out.path(name, CONFIG_FILE) + (f":{line}:{column}" if line else "")
        out.error(
            where,
            f"not valid Triton model configuration (protobuf text format): {message}",
            f"correct line {line}, column {column} (field names and enum values are Triton's ModelConfig, see {DOCS})"
            if line
            else f"correct the syntax (see {DOCS})",
        )
        return None
    return config


def _resolve_kind(config: Any, where: str, out: _Collector) -> ModelKind | None:
    """The model kind the way Triton fills in platform and backend, or None (problem recorded)."""
    platform, backend, filename = str(config.platform), str(config.backend), str(config.default_model_filename)
    if backend:
        kind = KINDS.get(backend)
        if kind is None:
            out.error(where, f'backend "{backend}" is not one mlplat serves', f"use {SUPPORTED}")
            return None
        if platform and kind.platform and platform != kind.platform:
            out.error(
                where,
                f'platform "{platform}" and backend "{backend}" disagree: Triton refuses the pair',
                f'remove platform, or set platform: "{kind.platform}" to go with backend "{backend}"',
            )
            return None
        return kind
    if platform:
        kind = _BY_PLATFORM.get(platform)
        if kind is None:
            fix = f"use {SUPPORTED}"
            if platform == "python":
                fix = 'write backend: "python" instead (Triton has a python backend but no "python" platform)'
            elif platform in KINDS:
                fix = f'write backend: "{platform}" or platform: "{KINDS[platform].platform}"'
            out.error(where, f'platform "{platform}" is not one mlplat serves', fix)
            return None
        return kind
    if filename in _BY_FILENAME:
        return _BY_FILENAME[filename]  # Triton infers the backend from default_model_filename too
    out.error(
        where,
        "neither platform nor backend is set: Triton would guess from the files, mlplat needs it stated",
        f"add {SUPPORTED} to {CONFIG_FILE}",
    )
    return None


def _check_config(config: Any, summary: ModelSummary, versions: dict[int, Path], out: _Collector) -> ModelSummary:
    name = summary.name
    where = out.path(name, CONFIG_FILE)
    if config.name and config.name != name:
        out.error(
            where,
            f'name "{config.name}" differs from the folder name "{name}": Triton refuses to load the model',
            f'set name: "{name}" (or remove the name line), or rename the folder to {config.name}',
        )
    kind = _resolve_kind(config, where, out)
    inputs = _check_tensors(config, "input", kind, where, out)
    outputs = _check_tensors(config, "output", kind, where, out)
    _check_batching(config, where, out)
    _check_version_policy(config, sorted(versions), where, out)
    filename = ""
    if kind is not None:
        filename = str(config.default_model_filename) or kind.filename
        for version, version_dir in sorted(versions.items()):
            _check_model_file(kind, filename, bool(config.default_model_filename), version_dir, version, out)
    return replace(
        summary,
        platform=(kind.platform or kind.backend) if kind else "",
        model_filename=filename,
        max_batch_size=int(config.max_batch_size),
        inputs=inputs,
        outputs=outputs,
    )


def _check_model_file(
    kind: ModelKind, filename: str, custom: bool, version_dir: Path, version: int, out: _Collector
) -> None:
    model = version_dir.parent.name
    target = version_dir / filename
    shown = out.path(model, str(version), filename)
    expected = f"default_model_filename {filename!r}" if custom else f"the {kind.platform or kind.backend} model file"
    if target.is_file() or (kind.directory_ok and target.is_dir()):
        return
    if target.is_dir():
        out.error(shown, f"{filename} is a folder; {expected} must be a file", "replace the folder with the file")
        return
    present = sorted(p.name for p in version_dir.iterdir() if _visible(p))
    seen = f" (the folder holds: {', '.join(present)})" if present else " (the folder is empty)"
    if custom:
        fix = f"put the model file at {model}/{version}/{filename}, or correct default_model_filename"
    else:
        fix = (
            f"put the model file at {model}/{version}/{filename}, or set default_model_filename in {CONFIG_FILE} "
            "if it has another name"
        )
    out.error(shown, f"missing: version {version} has no {filename}, {expected}{seen}", fix)


def _check_tensors(
    config: Any, field_name: Literal["input", "output"], kind: ModelKind | None, where: str, out: _Collector
) -> tuple[TensorSpec, ...]:
    from tritonclient.grpc import model_config_pb2

    tensors = list(getattr(config, field_name))
    if not tensors:
        if kind is not None and kind.backend == "python":
            why = (
                "Triton cannot read tensor names and shapes from a python model, so a python model without "
                "declared tensors fails to load (unless model.py implements auto_complete_config)"
            )
        else:
            why = (
                "mlplat requires the model's interface in the config so clients and the smoke test do not "
                "depend on Triton's auto-complete reading the model file"
            )
        out.error(
            where,
            f"no {field_name} declared: {why}",
            f'add {field_name} [ {{ name: "..." data_type: TYPE_FP32 dims: [ ... ] }} ]',
        )
    specs: list[TensorSpec] = []
    seen: set[str] = set()
    for index, tensor in enumerate(tensors):
        label = f"{field_name} {tensor.name!r}" if tensor.name else f"{field_name} #{index + 1}"
        if not tensor.name:
            out.error(where, f"{label} has no name", 'give it name: "..." (the tensor name clients send)')
        elif tensor.name in seen:
            out.error(where, f"{label} is declared twice", f"give each {field_name} its own name")
        seen.add(str(tensor.name))
        data_type = model_config_pb2.DataType.Name(tensor.data_type)
        if tensor.data_type == model_config_pb2.TYPE_INVALID:
            out.error(
                where,
                f"{label} has no data_type (TYPE_INVALID): Triton refuses the model",
                "set data_type: TYPE_FP32 (or TYPE_INT64, TYPE_STRING, ... the type the model uses)",
            )
        dims = tuple(int(d) for d in tensor.dims)
        if not dims:
            out.error(
                where,
                f"{label} has no dims: Triton refuses the model",
                "set dims: [ ... ] to the shape without the batch dimension (-1 for a variable size)",
            )
        bad = [d for d in dims if d < 1 and d != WILDCARD_DIM]
        if bad:
            out.error(
                where,
                f"{label} has dims {list(dims)}: each must be >= 1, or -1 for a variable size",
                "correct the dims (a batch dimension is implied by max_batch_size > 0, do not list it)",
            )
        specs.append(TensorSpec(str(tensor.name), data_type, dims))
    return tuple(specs)


def _check_batching(config: Any, where: str, out: _Collector) -> None:
    max_batch = int(config.max_batch_size)
    if max_batch < 0:
        out.error(
            where,
            f"max_batch_size {max_batch} is negative",
            "set max_batch_size: 0 (no batching) or the largest batch the model accepts",
        )
        return
    if not config.HasField("dynamic_batching"):
        return
    preferred = [int(size) for size in config.dynamic_batching.preferred_batch_size]
    if max_batch == 0:
        out.warning(
            where,
            "dynamic_batching has no effect with max_batch_size 0 (the model does not batch)",
            "set max_batch_size to the largest batch the model accepts, or remove dynamic_batching",
        )
    wrong = [size for size in preferred if size <= 0 or size > max_batch]
    if wrong and max_batch > 0:
        out.error(
            where,
            f"dynamic_batching preferred_batch_size {wrong} outside 1..max_batch_size ({max_batch}): "
            "Triton refuses the model",
            f"use preferred sizes between 1 and {max_batch}",
        )
    elif wrong:
        out.error(
            where,
            f"dynamic_batching preferred_batch_size {wrong} with max_batch_size 0: Triton refuses the model",
            "remove preferred_batch_size, or set max_batch_size",
        )


def _check_version_policy(config: Any, versions: list[int], where: str, out: _Collector) -> None:
    """Specific versions must have folders (latest/all take whatever exists)."""
    if not config.HasField("version_policy"):
        return
    policy = config.version_policy
    if policy.WhichOneof("policy_choice") == "specific":
        wanted = [int(v) for v in policy.specific.versions]
        missing = sorted(set(wanted) - set(versions))
        if missing:
            have = ", ".join(map(str, versions)) or "none"
            out.error(
                where,
                f"version_policy names version(s) {missing} with no folder (present: {have}): "
                "Triton fails to load them",
                f"add the folder(s) {', '.join(f'{out.model}/{v}/' for v in missing)} or list only existing versions",
            )
        if not wanted:
            out.error(where, "version_policy specific lists no versions", "list versions: [ 1 ] or use latest")
