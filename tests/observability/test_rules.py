"""The alert rules with the real promtool: `promtool check rules` on every rendered PrometheusRule,
`promtool test rules` on the unit tests in rules/*_test.yaml (every alert has a case that fires and one
that stays quiet), the runbook of every alert, and the metric names checked against what the
exporters really expose."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.observability.obslib import (
    CHART,
    CI_VALUES,
    DEFAULT_RUNBOOK_BASE,
    RULE_TEST_VALUES,
    RULE_TESTS_DIR,
    RUNBOOKS_DIR,
    TRITON_METRICS_FIXTURE,
    alerting_rules,
    all_panels,
    dashboard_files,
    exposition_series,
    load_dashboard,
    referenced_metrics,
    render_docs,
    run_tool,
    write_rule_files,
)

RULE_TEST_FILES = sorted(RULE_TESTS_DIR.glob("*_test.yaml"))
VALUE_SETS: dict[str, list[Path]] = {"defaults": [], **{path.stem: [path] for path in CI_VALUES}}

# The active (uncommented) fields of dcgm-exporter's etc/default-counters.csv, which the DCGM exporter
# release of the observability phase runs with (github.com/NVIDIA/dcgm-exporter, checked 2025).
DCGM_DEFAULT_COUNTERS = """\
DCGM_FI_DEV_SM_CLOCK, gauge, SM clock frequency (in MHz).
DCGM_FI_DEV_MEM_CLOCK, gauge, Memory clock frequency (in MHz).
DCGM_FI_DEV_MEMORY_TEMP, gauge, Memory temperature (in C).
DCGM_FI_DEV_GPU_TEMP, gauge, GPU temperature (in C).
DCGM_FI_DEV_POWER_USAGE, gauge, Power draw (in W).
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION, counter, Total energy consumption since boot (in mJ).
DCGM_FI_DEV_PCIE_REPLAY_COUNTER, counter, Total number of PCIe retries.
DCGM_FI_DEV_GPU_UTIL, gauge, GPU utilization (in %).
DCGM_FI_DEV_MEM_COPY_UTIL, gauge, Memory utilization (in %).
DCGM_FI_DEV_ENC_UTIL, gauge, Encoder utilization (in %).
DCGM_FI_DEV_DEC_UTIL, gauge, Decoder utilization (in %).
DCGM_FI_DEV_XID_ERRORS, gauge, Value of the last XID error encountered.
DCGM_FI_DEV_FB_FREE, gauge, Framebuffer memory free (in MiB).
DCGM_FI_DEV_FB_USED, gauge, Framebuffer memory used (in MiB).
DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL, counter, Total number of NVLink bandwidth counters for all lanes
"""
DCGM_FIELDS = {row[0].strip() for row in csv.reader(io.StringIO(DCGM_DEFAULT_COUNTERS))}


# --- promtool check rules --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_promtool_check_rules_passes_on_the_rendered_rules(name: str, tmp_path: Path) -> None:
    files = write_rule_files(render_docs(VALUE_SETS[name]), tmp_path)
    assert files
    result = run_tool("promtool", ["check", "rules", *map(str, files.values())])
    assert result.returncode == 0, result.output
    assert result.output.count("SUCCESS") == len(files), result.output


def test_promtool_check_rules_can_fail(tmp_path: Path) -> None:
    # guards the test above: a broken expression in a rendered file must be refused
    files = write_rule_files(render_docs(), tmp_path)
    path = files["mlplat-observability-gpu.yaml"]
    spec = yaml.safe_load(path.read_text())
    spec["groups"][0]["rules"][0]["expr"] = "avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m] >= 95"
    path.write_text(yaml.safe_dump(spec))
    result = run_tool("promtool", ["check", "rules", str(path)])
    assert result.returncode != 0
    assert "unclosed left parenthesis" in result.output or "parse error" in result.output, result.output


# --- promtool test rules ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_rule_docs() -> list[dict[str, Any]]:
    """The chart rendered the way the unit tests expect (defaults plus rules/values.yaml)."""
    return render_docs([RULE_TEST_VALUES])


def run_rule_tests(test_file: Path, docs: list[dict[str, Any]], directory: Path) -> tuple[int, str]:
    """Write the rendered rules into `directory`, point the test file's rule_files at them, run
    `promtool test rules`; (exit code, output)."""
    rule_files = write_rule_files(docs, directory / "rules")
    tests = yaml.safe_load(test_file.read_text())
    missing = [name for name in tests["rule_files"] if name not in rule_files]
    assert not missing, (
        f"{test_file.name} names rule files the chart does not render: {missing} (have {sorted(rule_files)})"
    )
    tests["rule_files"] = [str(rule_files[name]) for name in tests["rule_files"]]
    target = directory / test_file.name
    target.write_text(yaml.safe_dump(tests, sort_keys=False, allow_unicode=True))
    result = run_tool("promtool", ["test", "rules", str(target)])
    return result.returncode, result.output


@pytest.mark.parametrize("test_file", RULE_TEST_FILES, ids=[path.stem for path in RULE_TEST_FILES])
def test_promtool_unit_tests_pass(test_file: Path, test_rule_docs: list[dict[str, Any]], tmp_path: Path) -> None:
    returncode, output = run_rule_tests(test_file, test_rule_docs, tmp_path)
    assert returncode == 0, output
    assert "SUCCESS" in output and "FAILED" not in output, output


def test_unit_tests_fail_when_a_threshold_changes(tmp_path: Path) -> None:
    """The unit tests pin the default thresholds: raise one and the firing case must fail (so the
    tests can fail, and a changed default is a deliberate edit of the tests too)."""
    docs = render_docs([RULE_TEST_VALUES], {"alerts.gpuUtilizationSaturated.percent": 99})
    returncode, output = run_rule_tests(RULE_TESTS_DIR / "gpu_test.yaml", docs, tmp_path)
    assert returncode != 0
    assert "alertname: GpuUtilizationSaturated" in output, output


def _cases() -> dict[str, dict[str, list[str]]]:
    """{alertname: {"firing": [test names], "quiet": [test names]}} from every unit test file."""
    cases: dict[str, dict[str, list[str]]] = {}
    for path in RULE_TEST_FILES:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for check in test.get("alert_rule_test", []):
                kind = "firing" if check.get("exp_alerts") else "quiet"
                cases.setdefault(check["alertname"], {"firing": [], "quiet": []})[kind].append(
                    f"{path.name}: {test['name']}"
                )
    return cases


def test_every_alert_has_a_firing_and_a_quiet_unit_test(test_rule_docs: list[dict[str, Any]]) -> None:
    alerts = {rule["alert"] for rule in alerting_rules(test_rule_docs)}
    cases = _cases()
    assert len(alerts) == 13
    for alert in sorted(alerts):
        assert cases.get(alert, {}).get("firing"), f"{alert} has no unit test that makes it fire"
        assert cases.get(alert, {}).get("quiet"), f"{alert} has no unit test that keeps it quiet"
    assert set(cases) <= alerts, f"unit tests for alerts the chart does not have: {sorted(set(cases) - alerts)}"


def test_every_alert_rule_fires_in_some_unit_test(test_rule_docs: list[dict[str, Any]]) -> None:
    """Alerts with several rules (warning and critical, per expected model) need each rule covered:
    every distinct (alert, severity, static model label) appears in some expected alert."""
    rules = {
        (rule["alert"], rule["labels"]["severity"], rule["labels"].get("model", ""))
        for rule in alerting_rules(test_rule_docs)
    }
    seen: set[tuple[str, str, str]] = set()
    for path in RULE_TEST_FILES:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for check in test.get("alert_rule_test", []):
                for alert in check.get("exp_alerts") or []:
                    labels = alert["exp_labels"]
                    model = labels.get("model", "") if "pod" not in labels and "version" not in labels else ""
                    seen.add((check["alertname"], labels["severity"], model))
    assert rules <= seen, f"rules no unit test makes fire: {sorted(rules - seen)}"


def test_every_rendered_rule_file_has_unit_tests(test_rule_docs: list[dict[str, Any]], tmp_path: Path) -> None:
    rendered = set(write_rule_files(test_rule_docs, tmp_path))
    tested = {name for path in RULE_TEST_FILES for name in yaml.safe_load(path.read_text())["rule_files"]}
    assert rendered == tested


# --- runbooks -------------------------------------------------------------------------------------------------


def test_every_alert_has_its_runbook(test_rule_docs: list[dict[str, Any]]) -> None:
    for rule in alerting_rules(test_rule_docs):
        url = rule["annotations"]["runbook_url"]
        assert url.startswith(DEFAULT_RUNBOOK_BASE + "/"), url
        path = RUNBOOKS_DIR / url.removeprefix(DEFAULT_RUNBOOK_BASE + "/")
        assert path.is_file(), f"{rule['alert']}: runbook {path} does not exist"
        text = path.read_text()
        assert text.startswith(f"# {rule['alert']}\n"), path
        assert rule["labels"]["severity"] in text, f"{path.name} does not state the severity"


def test_runbook_index_lists_every_runbook_and_no_runbook_is_orphaned(test_rule_docs: list[dict[str, Any]]) -> None:
    alerts = {rule["alert"] for rule in alerting_rules(test_rule_docs)}
    pages = {path.stem for path in RUNBOOKS_DIR.glob("*.md") if path.name != "README.md"}
    assert pages == alerts
    index = (RUNBOOKS_DIR / "README.md").read_text()
    for alert in alerts:
        assert f"]({alert}.md)" in index, f"runbooks/alerts/README.md does not link {alert}.md"


def test_runbooks_name_the_values_that_tune_their_alert() -> None:
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    for key in defaults["alerts"]:
        if key in {"enabled", "additionalLabels"}:
            continue
        page = RUNBOOKS_DIR / f"{key[0].upper()}{key[1:]}.md"
        assert page.is_file(), f"alerts.{key} has no runbook {page.name}"
        assert f"alerts.{key}" in page.read_text(), f"{page.name} does not name alerts.{key}"


# --- metric names against the real exporters --------------------------------------------------------------------


def _all_expressions(docs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(where, PromQL) of every alert rule and every dashboard panel query."""
    found = [(f"alert {rule['alert']}", rule["expr"]) for rule in alerting_rules(docs)]
    for path in dashboard_files():
        for panel in all_panels(load_dashboard(path)):
            for target in panel.get("targets", []):
                found.append((f"{path.name} panel {panel['id']}", target["expr"]))
    return found


def test_triton_metrics_in_rules_and_dashboards_exist_in_a_real_triton_scrape(
    test_rule_docs: list[dict[str, Any]],
) -> None:
    """Against the recorded scrape of a real tritonserver 2.51 (fixtures/); test_triton_live.py
    repeats this against a running server when one is installed."""
    exposed = exposition_series(TRITON_METRICS_FIXTURE.read_text())
    for where, expr in _all_expressions(test_rule_docs):
        for metric in referenced_metrics(expr):
            if metric.startswith("nv_"):
                assert metric in exposed, f"{where}: Triton exposes no {metric}"
                assert {"model", "version"} <= exposed[metric] or metric.startswith(("nv_cpu", "nv_pinned")), metric
    assert "reason" in exposed["nv_inference_request_failure"]
    assert "quantile" in exposed["nv_inference_request_summary_us"]
    assert "quantile" in exposed["nv_inference_queue_summary_us"]


def test_dcgm_metrics_in_rules_and_dashboards_are_default_counters(test_rule_docs: list[dict[str, Any]]) -> None:
    used: set[str] = set()
    for where, expr in _all_expressions(test_rule_docs):
        for metric in referenced_metrics(expr):
            if metric.startswith("DCGM_"):
                assert metric in DCGM_FIELDS, f"{where}: {metric} is not a default dcgm-exporter counter"
                used.add(metric)
    assert {"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_XID_ERRORS"} <= used
    assert {"DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE"} <= used


def test_the_recorded_triton_scrape_is_valid_exposition() -> None:
    # promtool parses it; exit 3 means lint findings only (Triton's counters lack _total and so on)
    text = TRITON_METRICS_FIXTURE.read_text()
    result = run_tool("promtool", ["check", "metrics"], stdin=text)
    assert result.returncode in {0, 3}, result.output
    assert "error while linting" not in result.output, result.output
    assert re.search(r'^nv_inference_count\{model="echo",version="1"\} 3$', text, re.MULTILINE)
