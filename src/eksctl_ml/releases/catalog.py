"""The Helm release catalog (``helm-values/catalog.yaml``): which charts mlplat installs, pinned, and when.

Data, not code: adding a chart is a catalog entry plus a ``helm-values/<release>/`` folder. Every
version is an exact chart version (a range or "latest" would make two runs install different
software), and every entry names the phase that installs it and, optionally, the env feature switch
that turns it on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from eksctl_ml.config.loader import Environment
from eksctl_ml.config.models import EnvConfig
from eksctl_ml.errors import ConfigError, ConfigIssue, UsageError

PROJECT_DIR_VAR = "MLPLAT_PROJECT_DIR"

Phase = Literal["nodegroups", "cni", "storage", "observability", "triton", "mesh", "gitops"]
#: Phases that install Helm releases, in provision order.
PHASES: tuple[str, ...] = get_args(Phase)

# Exact SemVer 2.0 (chart versions may carry a leading "v", as Calico's do). Rejects ranges
# (^1.2, ~1.2, >=1, 1.x, 1.2) and "latest".
_SEMVER_RE = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$"
)
_DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_CONDITION_RE = re.compile(
    r"^(?P<path>[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+)(?:\s*(?P<op>==|!=)\s*(?P<value>[\w.-]+))?$"
)


def project_root() -> Path:
    """The folder holding ``helm-values/`` and ``charts/``: ``$MLPLAT_PROJECT_DIR`` or this checkout."""
    override = os.environ.get(PROJECT_DIR_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3]


def catalog_path(root: Path | None = None) -> Path:
    return (root or project_root()) / "helm-values" / "catalog.yaml"


def _config_field(path: str, *, boolean: bool) -> str | None:
    """None if ``path`` (``features.calico``) names a field of EnvConfig (a bool one if ``boolean``),
    else what is wrong."""
    model: type[BaseModel] = EnvConfig
    parts = path.split(".")
    for index, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return f"{'.'.join(parts[: index + 1])} is not an environment setting"
        annotation = field.annotation
        if index == len(parts) - 1:
            if boolean and annotation is not bool:
                return f"{path} is not a true/false switch: compare it, e.g. {path} == VALUE"
            return None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return f"{'.'.join(parts[: index + 1])} has no sub-settings"
        model = annotation
    return None


class Release(BaseModel):
    """One Helm release: where its chart comes from, the pinned version, and when it is installed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Helm release name; also names its values folder.")
    description: str = Field(default="", description="What the release is for (shown by `mlplat releases`).")
    namespace: str = Field(description="Namespace the release is installed into (created if missing).")
    repo: str | None = Field(default=None, description="Chart repository URL (https) of an upstream chart.")
    path: str | None = Field(default=None, description="Local chart folder (charts/<chart>) of mlplat's own charts.")
    chart: str = Field(description="Chart name.")
    version: str = Field(description="Exact chart version (SemVer, no ranges).")
    values: str | None = Field(default=None, description="Values folder; default helm-values/<name>.")
    phase: Phase = Field(description="The mlplat phase that installs this release.")
    condition: str | None = Field(
        default=None, description="Env setting that enables it: features.calico or features.gitops == argocd."
    )
    timeout_s: int = Field(default=600, ge=30, le=3600, description="Seconds helm waits for readiness.")
    wait: bool = Field(
        default=True,
        description="helm --atomic --wait (roll back unless ready in timeout_s). false: helm only applies the "
        "objects and the phase's gate waits, so a failure is diagnosed (pod events, logs) instead of ending "
        "in a helm timeout and a rollback that deletes the evidence.",
    )

    @field_validator("name", "namespace")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not _DNS_LABEL_RE.fullmatch(value) or len(value) > 53:
            raise ValueError("must be at most 53 lowercase letters, digits and '-' (a DNS label)")
        return value

    @field_validator("chart")
    @classmethod
    def _chart_name(cls, value: str) -> str:
        if not _DNS_LABEL_RE.fullmatch(value):
            raise ValueError("a chart name is lowercase letters, digits and '-'")
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _pinned(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("quote the version in YAML (e.g. '1.2.0'); unquoted it is read as a number")
        if not _SEMVER_RE.fullmatch(value):
            raise ValueError(f"{value!r} is not an exact chart version: pin one release, e.g. 1.2.3 (no ranges/latest)")
        return value

    @field_validator("repo")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?(/[\w.~/-]*)?", value):
            raise ValueError("a chart repository must be an https:// URL")
        return value.rstrip("/") if value else value

    @field_validator("path", "values")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is not None and (Path(value).is_absolute() or ".." in Path(value).parts):
            raise ValueError("must be a path relative to the project root, without '..'")
        return value.rstrip("/") if value else value

    @field_validator("condition")
    @classmethod
    def _condition(cls, value: str | None) -> str | None:
        if value is None:
            return value
        match = _CONDITION_RE.fullmatch(value.strip())
        if not match:
            raise ValueError("write a condition as features.NAME or features.NAME == VALUE")
        problem = _config_field(match["path"], boolean=match["op"] is None)
        if problem:
            raise ValueError(problem)
        return value.strip()

    @model_validator(mode="after")
    def _one_source(self) -> Release:
        if (self.repo is None) == (self.path is None):
            raise ValueError("give exactly one of repo (an upstream chart) or path (charts/<chart>)")
        if self.path is not None and self.path != f"charts/{self.chart}":
            raise ValueError(f"a local chart lives in charts/{self.chart}, not {self.path}")
        return self

    # --- derived --------------------------------------------------------------------------------

    @property
    def local(self) -> bool:
        return self.path is not None

    @property
    def source(self) -> str:
        """Where the chart comes from, for people: ``<repo> <chart>`` or the local folder."""
        return self.path if self.path is not None else f"{self.repo} {self.chart}"

    def chart_ref(self, root: Path | None = None) -> str:
        """What helm gets as the chart: the chart name (with ``--repo``) or the local folder's path."""
        if self.path is not None:
            return str((root or project_root()) / self.path)
        return self.chart

    def values_dir(self, root: Path | None = None) -> Path:
        return (root or project_root()) / (self.values or f"helm-values/{self.name}")

    def enabled(self, env: Environment | EnvConfig) -> bool:
        """Whether ``env`` wants this release (its condition holds, or it has none)."""
        if self.condition is None:
            return True
        cfg = env.config if isinstance(env, Environment) else env
        match = _CONDITION_RE.fullmatch(self.condition)
        if match is None:  # validated at load time
            raise UsageError(f"invalid condition {self.condition!r} on release {self.name}")
        value: Any = cfg
        for part in match["path"].split("."):
            value = getattr(value, part)
        if match["op"] is None:
            return bool(value)
        same = str(value).lower() == match["value"].lower()
        return same if match["op"] == "==" else not same


class Catalog(BaseModel):
    """Every release, in catalog order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    releases: tuple[Release, ...] = Field(description="The releases, in install order within each phase.")

    @model_validator(mode="after")
    def _unique(self) -> Catalog:
        seen: set[str] = set()
        for release in self.releases:
            if release.name in seen:
                raise ValueError(f"release {release.name!r} is listed twice")
            seen.add(release.name)
        return self

    def get(self, name: str) -> Release:
        for release in self.releases:
            if release.name == name:
                return release
        raise UsageError(
            f"no release {name!r} in the catalog", hint=f"known: {', '.join(r.name for r in self.releases)}"
        )

    def ordered(self) -> list[Release]:
        """All releases in provision order: by phase, then as listed. `down` walks it backwards."""
        return sorted(self.releases, key=lambda r: PHASES.index(r.phase))

    def for_phase(self, phase: str, env: Environment | EnvConfig) -> list[Release]:
        """The releases ``phase`` installs for ``env`` (conditions evaluated), in install order."""
        if phase not in PHASES:
            raise UsageError(f"unknown phase {phase!r} for Helm releases", hint=f"use one of {', '.join(PHASES)}")
        return [r for r in self.ordered() if r.phase == phase and r.enabled(env)]


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable) or key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(path: Path) -> Any:
    """Parse one YAML file strictly; ConfigError (exit 2) naming the file and line on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}", hint="fix the YAML at that line") from exc


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate ``helm-values/catalog.yaml`` (or ``path``), reporting every problem at once."""
    path = path or catalog_path()
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping with a `releases:` list")
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False):
            loc = list(err["loc"])
            if len(loc) >= 2 and loc[0] == "releases" and isinstance(loc[1], int):
                entries = data.get("releases") or []
                entry = entries[loc[1]] if loc[1] < len(entries) else None
                name = entry.get("name") if isinstance(entry, dict) else None
                if name:
                    loc[1] = f"{loc[1]}:{name}"
            message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
            issues.append(ConfigIssue(str(path), ".".join(str(p) for p in loc), message))
        raise ConfigError(
            f"{path}: {len(issues)} problem(s) in the release catalog", issues, hint="fix the entries listed above"
        ) from None
