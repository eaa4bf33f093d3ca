"""Helpers for the mlplat-observability tests: render the chart with the real helm (through
tests.charts.chartlib), pull the PrometheusRules, the Alertmanager configuration and the dashboards
out of the rendered manifest, and run the real promtool and amtool on them."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksctl_ml.releases import endpoints
from tests.charts.chartlib import CHARTS_DIR, REPO, CommandResult, by_kind, render, run_helm, values_args

CHART = CHARTS_DIR / "mlplat-observability"
CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))
HERE = Path(__file__).resolve().parent
RULE_TESTS_DIR = HERE / "rules"
RULE_TEST_VALUES = RULE_TESTS_DIR / "values.yaml"
RUNBOOKS_DIR = REPO / "runbooks" / "alerts"
DASHBOARDS_DIR = CHART / "files" / "dashboards"
TRITON_METRICS_FIXTURE = HERE / "fixtures" / "triton-2.51-metrics.txt"

NAMESPACE = endpoints.OBSERVABILITY_NAMESPACE
RELEASE = "mlplat-observability"
"""Release name the tests render with: the rule files are then named mlplat-observability-<area>.yaml."""
DEFAULT_RUNBOOK_BASE = "https://github.com/mlplat/mlplat/blob/main/runbooks/alerts"
SEVERITIES = {"critical", "warning", "info"}


def require_tool(name: str) -> str:
    """The tool on PATH, else skip the test saying how to get it (Debian packages in .ci/run)."""
    found = shutil.which(name)
    if found is None:
        package = "prometheus-alertmanager" if name == "amtool" else "prometheus"
        pytest.skip(f"{name} is not installed: install the Debian package {package} (scripts/setup.sh does)")
    return found


def run_tool(
    name: str, args: list[str], *, cwd: Path | None = None, stdin: str | None = None, timeout: int = 120
) -> CommandResult:
    proc = subprocess.run(
        [require_tool(name), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CommandResult(proc.returncode, proc.stdout, proc.stderr)


# --- rendering ----------------------------------------------------------------------------------------

_FILE_RENDERS: dict[tuple[str, ...], str] = {}


def template_files(
    values_files: list[Path], values: dict[str, Any] | None = None, *, kube_version: str | None = None
) -> str:
    """`helm template` with values files (then --set-json values); returns the manifest, fails the test
    with helm's message when rendering fails. Cached: the output is a pure function of the arguments."""
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    if kube_version:
        args += ["--kube-version", kube_version]
    for path in values_files:
        args += ["-f", str(path)]
    args += values_args(values)
    key = tuple(args)
    if key not in _FILE_RENDERS:
        result = run_helm(args)
        assert result.returncode == 0, result.output
        _FILE_RENDERS[key] = result.stdout
    return _FILE_RENDERS[key]


def render_docs(
    values_files: list[Path] | None = None, values: dict[str, Any] | None = None, *, kube_version: str | None = None
) -> list[dict[str, Any]]:
    """Rendered documents (empty ones dropped)."""
    if not values_files:
        return render(CHART, values, namespace=NAMESPACE, release=RELEASE, **_kube(kube_version))
    text = template_files(values_files, values, kube_version=kube_version)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _kube(kube_version: str | None) -> dict[str, Any]:
    return {"kube_version": kube_version} if kube_version else {}


# --- PrometheusRules ---------------------------------------------------------------------------------


def prometheus_rules(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{metadata.name: spec} of every rendered PrometheusRule."""
    return {doc["metadata"]["name"]: doc["spec"] for doc in by_kind(docs, "PrometheusRule")}


def write_rule_files(docs: list[dict[str, Any]], directory: Path) -> dict[str, Path]:
    """Each PrometheusRule's spec as a Prometheus rule file `<metadata.name>.yaml`; {file name: path}."""
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for name, spec in prometheus_rules(docs).items():
        path = directory / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        files[path.name] = path
    return files


def alerting_rules(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every alerting rule of every rendered PrometheusRule, in order."""
    return [
        rule
        for spec in prometheus_rules(docs).values()
        for group in spec["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


# --- Alertmanager ---------------------------------------------------------------------------------------


def alertmanager_secret(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (secret,) = [
        doc for doc in by_kind(docs, "Secret") if doc["metadata"]["name"] == endpoints.ALERTMANAGER_CONFIG_SECRET
    ]
    return secret


def alertmanager_yaml(docs: list[dict[str, Any]]) -> str:
    """The decoded alertmanager.yaml of the rendered configuration Secret."""
    return base64.b64decode(alertmanager_secret(docs)["data"]["alertmanager.yaml"]).decode()


def routes_test(config: Path, labels: dict[str, str]) -> list[str]:
    """Receivers an alert with these labels reaches, per `amtool config routes test`."""
    result = run_tool(
        "amtool", ["config", "routes", "test", f"--config.file={config}", *(f"{k}={v}" for k, v in labels.items())]
    )
    assert result.returncode == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines, result.output
    return lines[-1].strip().split(",")


# --- dashboards -------------------------------------------------------------------------------------------


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS_DIR.glob("*.json"))


def load_dashboard(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def all_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    panels: list[dict[str, Any]] = []
    for panel in dashboard.get("panels", []):
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


_BUILTIN_INTERVALS = re.compile(r"\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}")
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def substitute_grafana_variables(expr: str, values: dict[str, str] | None = None) -> str:
    """PromQL as Prometheus receives it from Grafana: interval macros become 5m, template variables a
    plausible value (`values`, else "x", which fits inside the regex matchers the dashboards use)."""
    expr = _BUILTIN_INTERVALS.sub("5m", expr)
    chosen = values or {}

    def variable(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        return chosen.get(name, "x")

    return _VARIABLE.sub(variable, expr)


# --- metric names -----------------------------------------------------------------------------------------

_METRIC_NAME = re.compile(r"\b(nv_[a-z_]+|DCGM_FI_[A-Z_]+)\b")


def referenced_metrics(expr: str) -> set[str]:
    """Triton (nv_*) and DCGM (DCGM_FI_*) metric names an expression reads."""
    return set(_METRIC_NAME.findall(expr))


def exposition_series(text: str) -> dict[str, set[str]]:
    """{metric name: label names} of a Prometheus text exposition (HELP/TYPE/comment lines skipped)."""
    series: dict[str, set[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s", line)
        assert match, f"not an exposition line: {line!r}"
        labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', match.group(3) or ""))
        series.setdefault(match.group(1), set()).update(labels)
    return series
