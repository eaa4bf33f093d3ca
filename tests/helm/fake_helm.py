"""A fake ``helm`` executable for adapter tests: a small Python script written into a temp folder.

It answers the subcommands the adapter uses the way helm 3.17 does (``version``, ``show chart``,
``upgrade --install -o json``, ``status -o json``, ``history -o json``, ``uninstall``), keeps releases
in a JSON state file between calls, and appends every call to a JSON-lines log: its argv and the
exact text it received through ``--values``/``-f`` (stdin for ``-``). ``FakeHelmBinary.fail`` makes a
subcommand fail with a given stderr; ``delay`` makes it hang.
"""

from __future__ import annotations

import json
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCRIPT = r"""
import json, os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(HERE, "config.json")
LOG = os.path.join(HERE, "calls.jsonl")
STATE = os.path.join(HERE, "state.json")


def load(path, default):
    try:
        with open(path) as fh:
            return json.load(fh)
    except FileNotFoundError:
        return default


def flag(argv, *names, default=None):
    for i, arg in enumerate(argv):
        if arg in names and i + 1 < len(argv):
            return argv[i + 1]
        for name in names:
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return default


argv = sys.argv[1:]
conf = load(CONF, {})
values_text = None
source = flag(argv, "--values", "-f")
if source is not None:
    values_text = sys.stdin.read() if source == "-" else open(source).read()
with open(LOG, "a") as fh:
    fh.write(json.dumps({"argv": argv, "values": values_text}) + "\n")

sub = argv[0] if argv else ""
time.sleep(conf.get("delay", {}).get(sub, 0))
failure = conf.get("fail", {}).get(sub)
if failure:
    sys.stderr.write(failure["stderr"])
    sys.exit(failure.get("rc", 1))

state = load(STATE, {})
ns = flag(argv, "--namespace", "-n", default="default")
NOW = "2025-01-01T00:00:00Z"


def chart_meta(ref, version):
    chart_yaml = os.path.join(ref, "Chart.yaml")
    if os.path.isfile(chart_yaml):
        meta = {}
        for line in open(chart_yaml):
            if ":" in line and not line.startswith((" ", "#")):
                key, _, value = line.partition(":")
                meta[key.strip()] = value.strip().strip('"')
        return {"apiVersion": meta.get("apiVersion", "v2"), "name": meta["name"], "version": meta["version"],
                "appVersion": meta.get("appVersion", meta["version"])}
    version = version or "1.0.0"
    return {"apiVersion": "v2", "name": os.path.basename(ref), "version": version, "appVersion": version}


def not_found(prefix=""):
    sys.stderr.write("Error: " + prefix + "release: not found\n")
    sys.exit(1)


if sub == "version":
    sys.stdout.write(conf.get("version", "v3.17.3"))
elif sub == "show" and argv[1] == "chart":
    print(json.dumps(chart_meta(argv[2], flag(argv, "--version"))))
elif sub == "upgrade":
    name, ref = argv[1], argv[2]
    values = json.loads(values_text or "{}")
    meta = chart_meta(ref, flag(argv, "--version"))
    history = state.setdefault(ns + "/" + name, [])
    for entry in history:
        entry["info"]["status"] = "superseded"
    manifest = ("---\n# Source: " + meta["name"] + "/templates/values.yaml\napiVersion: v1\nkind: ConfigMap\n"
                "metadata:\n  name: " + name + "-values\n  namespace: " + ns + "\ndata:\n  values.json: "
                + json.dumps(json.dumps(values, sort_keys=True)) + "\n")
    release = {"name": name, "namespace": ns, "version": len(history) + 1,
               "info": {"first_deployed": NOW, "last_deployed": NOW, "deleted": "",
                        "description": "Install complete" if not history else "Upgrade complete",
                        "status": "deployed"},
               "chart": {"metadata": meta}, "config": values, "manifest": manifest}
    history.append(release)
    with open(STATE, "w") as fh:
        json.dump(state, fh)
    print(json.dumps(release))
elif sub == "status":
    history = state.get(ns + "/" + argv[1])
    if not history:
        not_found()
    print(json.dumps({k: v for k, v in history[-1].items() if k != "chart"}))
elif sub == "history":
    history = state.get(ns + "/" + argv[1])
    if not history:
        not_found()
    limit = int(flag(argv, "--max", default="256"))
    print(json.dumps([
        {"revision": r["version"], "updated": NOW, "status": r["info"]["status"],
         "chart": r["chart"]["metadata"]["name"] + "-" + r["chart"]["metadata"]["version"],
         "app_version": r["chart"]["metadata"]["appVersion"], "description": r["info"]["description"]}
        for r in history[-limit:]
    ]))
elif sub == "uninstall":
    if not state.pop(ns + "/" + argv[1], None):
        not_found("uninstall: Release not loaded: " + argv[1] + ": ")
    with open(STATE, "w") as fh:
        json.dump(state, fh)
    print('release "' + argv[1] + '" uninstalled')
else:
    sys.stderr.write("Error: unknown command " + repr(sub) + " for \"helm\"\n")
    sys.exit(1)
"""


@dataclass
class Call:
    argv: list[str]
    values: str | None

    @property
    def subcommand(self) -> str:
        return self.argv[0] if self.argv else ""

    def flag(self, name: str) -> str | None:
        return self.argv[self.argv.index(name) + 1] if name in self.argv else None

    def values_data(self) -> Any:
        return json.loads(self.values) if self.values is not None else None


class FakeHelmBinary:
    """The fake helm in ``folder``: its path, its call log and knobs to make it fail."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.path = folder / "helm"
        self.path.write_text(f"#!{sys.executable}\n{_SCRIPT}")
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        self._config: dict[str, Any] = {"fail": {}, "delay": {}}
        self._save()

    def _save(self) -> None:
        (self.folder / "config.json").write_text(json.dumps(self._config))

    def fail(self, subcommand: str, stderr: str, rc: int = 1) -> None:
        self._config["fail"][subcommand] = {"stderr": stderr, "rc": rc}
        self._save()

    def delay(self, subcommand: str, seconds: float) -> None:
        self._config["delay"][subcommand] = seconds
        self._save()

    def report_version(self, version: str) -> None:
        self._config["version"] = version
        self._save()

    def calls(self, subcommand: str | None = None) -> list[Call]:
        log = self.folder / "calls.jsonl"
        if not log.exists():
            return []
        calls = [Call(**json.loads(line)) for line in log.read_text().splitlines() if line]
        return [c for c in calls if subcommand is None or c.subcommand == subcommand]

    def releases(self) -> dict[str, Any]:
        state = self.folder / "state.json"
        return json.loads(state.read_text()) if state.exists() else {}
