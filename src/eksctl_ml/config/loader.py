"""Load ``envs/<name>.yaml`` into an :class:`Environment`, reporting every problem at once.

Each problem names the file (with line), the field path, the bad value and the fix. Duplicate YAML
keys are errors too: PyYAML would silently keep the last one, which hides real mistakes.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from eksctl_ml.config.models import ENV_NAME_RE, EnvConfig
from eksctl_ml.errors import ConfigError, ConfigIssue, UsageError

ENV_VAR = "MLPLAT_ENV"
CONFIG_DIR_VAR = "MLPLAT_CONFIG_DIR"
DEFAULT_CONFIG_DIR = Path("envs")


@dataclass(frozen=True)
class Environment:
    """A loaded environment: its name (the file's stem), the file it came from, and its config."""

    name: str
    source: Path
    config: EnvConfig


def resolve_config_dir(config_dir: Path | None) -> Path:
    """``--config-dir``, else ``$MLPLAT_CONFIG_DIR``, else ``./envs``."""
    if config_dir is not None:
        return config_dir
    from_env = os.environ.get(CONFIG_DIR_VAR)
    return Path(from_env) if from_env else DEFAULT_CONFIG_DIR


def available_envs(config_dir: Path) -> list[str]:
    """Environment names that have a file in ``config_dir``."""
    if not config_dir.is_dir():
        return []
    return sorted(p.stem for p in config_dir.glob("*.yaml") if ENV_NAME_RE.fullmatch(p.stem))


def load_env(name: str | None, config_dir: Path | None = None) -> Environment:
    """Load and validate one environment. Raises ConfigError (exit 2) listing every issue."""
    directory = resolve_config_dir(config_dir)
    if not name:
        known = available_envs(directory)
        raise UsageError(
            "no environment given",
            hint=f"pass --env NAME or set {ENV_VAR}" + (f"; known: {', '.join(known)}" if known else ""),
        )
    if not ENV_NAME_RE.fullmatch(name):
        raise UsageError(
            f"invalid environment name {name!r}",
            hint="use 2-21 lowercase letters, digits and '-', starting with a letter",
        )
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = available_envs(directory)
        hint = (
            f"known environments in {directory}: {', '.join(known)}"
            if known
            else (f"create {path} (copy envs/dev.yaml from the repository) or pass --config-dir")
        )
        raise ConfigError(f"environment file {path} not found", hint=hint)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x})", hint="save the file as UTF-8"
        ) from None
    return Environment(name=name, source=path, config=parse_env(text, str(path)))


def parse_env(text: str, source: str) -> EnvConfig:
    """Parse YAML text into an EnvConfig; ``source`` names the file in error messages."""
    try:
        node = yaml.compose(text, Loader=_StrictLoader)
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}", hint="fix the YAML syntax at that line") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections (aws:, cluster:, ...)")
    try:
        return EnvConfig.model_validate(data)
    except ValidationError as exc:
        issues = _issues_from(exc, source, node, data)
        raise ConfigError(
            f"{source}: {len(issues)} problem(s) in the environment file; nothing was changed",
            issues,
            hint="fix the fields listed above, then run `mlplat config validate`",
        ) from None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(None, None, "found unhashable key", key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _issues_from(exc: ValidationError, source: str, root: yaml.Node | None, data: Any) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        ctx = err.get("ctx") or {}
        value: object = err.get("input")
        if "field" in ctx:  # a model-level check that is about one field
            loc.append(ctx["field"])
            value = _lookup(data, loc)
        kind = err["type"]
        message = err["msg"]
        fix = str(ctx.get("fix", ""))
        if kind == "extra_forbidden":
            message = "unknown key"
            known = _known_fields(loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            fix = f"did you mean {close[0]!r}?" if close else f"remove it; known keys: {', '.join(known)}"
            value = None
        elif kind == "missing":
            value = None
            fix = fix or "add this required field"
        elif kind == "string_type" and loc and loc[-1] == "account_id":
            fix = "quote it in YAML so leading zeros survive, e.g. '012345678901'"
        elif kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
            fix = f"quote it in YAML: unquoted, {value!r} is read as a number (e.g. 1.30 becomes 1.3)"
        elif isinstance(value, dict | list):
            value = None  # a whole section is not a useful "bad value"
        line = _line_of(root, loc)
        where = f"{source}:{line}" if line else source
        issues.append(ConfigIssue(file=where, path=_dotted(loc), message=message, value=value, fix=fix))
    return issues


def _dotted(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _lookup(data: Any, loc: Sequence[int | str]) -> object:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return None if isinstance(data, dict | list) else data


def _known_fields(loc: Sequence[int | str]) -> list[str]:
    model: type[BaseModel] = EnvConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None) if field else None
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        sub = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if sub is None:
            return []
        model = sub
    return sorted(model.model_fields)


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """1-based line of the deepest node on ``loc`` that exists in the YAML document."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    child, line = value_node, key_node.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
