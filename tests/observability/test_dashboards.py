"""Grafana dashboards as code: valid JSON, unique uids and panel ids, a $datasource variable, and every
panel query (and every query variable's selector) parsed by the real promtool."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.observability.obslib import (
    all_panels,
    dashboard_files,
    load_dashboard,
    run_tool,
    substitute_grafana_variables,
)

FILES = dashboard_files()
IDS = [path.stem for path in FILES]


def test_the_three_dashboards_exist() -> None:
    assert IDS == ["cluster", "gpu-fleet", "triton"]


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_dashboard_structure(path: Path) -> None:
    dashboard = load_dashboard(path)
    assert dashboard["uid"] and len(dashboard["uid"]) <= 40, "Grafana uids are at most 40 characters"
    assert dashboard["title"].startswith("mlplat / ")
    assert "mlplat" in dashboard["tags"]
    assert dashboard.get("id") is None, "a fixed numeric id collides between Grafana instances: leave it out"
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = all_panels(dashboard)
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids {sorted(i for i in ids if ids.count(i) > 1)}"
    queries = [panel for panel in panels if panel["type"] != "row"]
    assert len(queries) >= 6
    for panel in queries:
        where = f"{path.name} panel {panel['id']} ({panel['title']})"
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
        assert panel["targets"], where
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), where
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
            assert target["expr"].strip(), where
        position = panel["gridPos"]
        assert position["x"] >= 0 and position["x"] + position["w"] <= 24, where
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_uids_and_titles_are_unique_across_dashboards() -> None:
    uids = [load_dashboard(path)["uid"] for path in FILES]
    titles = [load_dashboard(path)["title"] for path in FILES]
    assert len(set(uids)) == len(uids) == 3
    assert len(set(titles)) == len(titles)


def test_dashboards_show_what_the_issue_asks_for() -> None:
    exprs = {
        path.stem: " ".join(t["expr"] for p in all_panels(load_dashboard(path)) for t in p.get("targets", []))
        for path in FILES
    }
    for metric in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_GPU_TEMP"):
        assert metric in exprs["gpu-fleet"], metric
    assert "by (Hostname)" in exprs["gpu-fleet"]  # per node as well as per GPU
    for text in (
        "rate(nv_inference_request_success",
        'nv_inference_request_summary_us{quantile=~"0.5|0.9|0.99"',
        "nv_inference_queue_summary_us",
        'rate(nv_inference_count{model=~"$model"}[$__rate_interval])) / sum by (model) (rate(nv_inference_exec_count',
    ):
        assert text in exprs["triton"], text
    for text in ('kube_node_status_condition{condition="Ready"', "kube_pod_status_phase", "node_cpu_seconds_total"):
        assert text in exprs["cluster"], text


def test_grafana_variables_are_substituted_as_prometheus_would_receive_them() -> None:
    expr = (
        'sum by (model) (rate(x{model=~"$model", node=~"${node:regex}", h="[[host]]"}[$__rate_interval])) [$__interval]'
    )
    assert substitute_grafana_variables(expr, {"model": "resnet50"}) == (
        'sum by (model) (rate(x{model=~"resnet50", node=~"x", h="x"}[5m])) [5m]'
    )


def _queries() -> list[tuple[str, str]]:
    """(where, PromQL after variable substitution) of every panel target and query variable."""
    found: list[tuple[str, str]] = []
    for path in FILES:
        dashboard = load_dashboard(path)
        for panel in all_panels(dashboard):
            for target in panel.get("targets", []):
                where = f"{path.name}: panel {panel['id']} ({panel['title']}) target {target['refId']}"
                found.append((where, substitute_grafana_variables(target["expr"])))
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "query":
                # label_values(<selector>, <label>): the selector is PromQL
                match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["query"]["query"])
                assert match, f"{path.name}: variable {variable['name']}: unexpected query {variable['query']}"
                found.append(
                    (f"{path.name}: variable {variable['name']}", substitute_grafana_variables(match.group(1)))
                )
    return found


def check_queries(queries: list[tuple[str, str]], tmp_path: Path) -> list[str]:
    """Every query as a recording rule in one file for `promtool check rules`; on failure each query
    alone, to name the panel that does not parse. Returns the failures (empty: all parse)."""

    def rule_file(items: list[tuple[str, str]], name: str) -> Path:
        rules = [{"record": f"dashboard_query:{index}", "expr": expr} for index, (_, expr) in enumerate(items)]
        path = tmp_path / name
        path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
        return path

    result = run_tool("promtool", ["check", "rules", str(rule_file(queries, "all.yaml"))])
    if result.returncode == 0:
        assert f"SUCCESS: {len(queries)} rules found" in result.output, result.output
        return []
    failures = []
    for index, (where, expr) in enumerate(queries):
        alone = run_tool("promtool", ["check", "rules", str(rule_file([(where, expr)], f"q{index}.yaml"))])
        if alone.returncode != 0:
            failures.append(f"{where}: {expr}\n    {alone.output.strip()}")
    return failures or [result.output]


def test_every_panel_query_parses(tmp_path: Path) -> None:
    queries = _queries()
    assert len(queries) > 50
    failures = check_queries(queries, tmp_path)
    assert not failures, "queries promtool cannot parse:\n" + "\n".join(failures)


def test_a_query_that_does_not_parse_is_named(tmp_path: Path) -> None:
    # guards the test above: the failing panel is reported by name
    queries = [("ok panel", "sum(up)"), ("gpu-fleet.json: panel 99 (broken)", "sum(rate(up[5m])")]
    failures = check_queries(queries, tmp_path)
    assert len(failures) == 1 and failures[0].startswith("gpu-fleet.json: panel 99 (broken)"), failures
