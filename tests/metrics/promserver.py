"""A real Prometheus server on loopback for the tests, and a static exporter for it to scrape.

``start_prometheus`` runs the Debian ``prometheus`` binary (2.42) with a temporary TSDB, a 1 s scrape and
rule-evaluation interval, the scrape jobs and alerting rules a test passes, and waits until it is ready.
:meth:`PrometheusServer.api` queries its HTTP API directly (urllib, no mlplat code), so tests can compare
what mlplat computes with what Prometheus itself answers.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def prometheus_binary() -> str | None:
    return shutil.which("prometheus")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrometheusServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def api(self, path: str, **params: str) -> Any:
        """``data`` of a successful ``GET /api/v1/<path>`` (AssertionError with Prometheus's message otherwise)."""
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
                document = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"Prometheus refused {url}: {exc.read().decode(errors='replace')}") from exc
        assert document["status"] == "success", document
        return document["data"]

    def instant(self, promql: str, at: float) -> list[dict[str, Any]]:
        """Prometheus's own result vector for ``promql`` at Unix time ``at``."""
        data = self.api("query", query=promql, time=f"{at:.3f}")
        assert data["resultType"] == "vector", data
        return list(data["result"])

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)
        except OSError:
            return False

    def wait_until(self, what: str, condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited ({self.process.returncode}) waiting for {what}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout_s:g}s waiting for {what}\n{self.log()[-3000:]}")
            time.sleep(0.2)

    def wait_targets_up(self, jobs: Sequence[str], timeout_s: float = 30.0) -> None:
        def all_up() -> bool:
            targets = self.api("targets", state="active")["activeTargets"]
            health = {t["labels"]["job"]: t["health"] for t in targets}
            return all(health.get(job) == "up" for job in jobs)

        self.wait_until(f"targets {list(jobs)} up", all_up, timeout_s)


def start_prometheus(
    workdir: Path,
    scrape_configs: Sequence[Mapping[str, Any]],
    rule_groups: Sequence[Mapping[str, Any]] = (),
    *,
    interval: str = "1s",
    ready_timeout_s: float = 30.0,
) -> PrometheusServer:
    """Start ``prometheus`` on a free loopback port with a fresh TSDB under ``workdir``; returns once ready."""
    binary = prometheus_binary()
    assert binary, "prometheus is not on PATH"
    workdir.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
        "scrape_configs": [dict(job) for job in scrape_configs],
    }
    if rule_groups:
        rules = workdir / "rules.yml"
        rules.write_text(yaml.safe_dump({"groups": [dict(group) for group in rule_groups]}, sort_keys=False))
        config["rule_files"] = [str(rules)]
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    log_path = workdir / "prometheus.log"
    for _attempt in range(3):  # the free port may be taken between picking and binding it
        port = free_port()
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config_file}",
                    f"--storage.tsdb.path={workdir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--storage.tsdb.retention.time=1h",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
            )
        server = PrometheusServer(f"http://127.0.0.1:{port}", process, log_path)
        try:
            server.wait_until("/-/ready", server.ready, ready_timeout_s)
            return server
        except AssertionError:
            server.stop()
            if "address already in use" not in server.log():
                raise
    raise AssertionError(f"prometheus could not bind a port:\n{log_path.read_text(errors='replace')}")


@contextlib.contextmanager
def static_exporter(metrics_file: Path) -> Iterator[str]:
    """Serve ``metrics_file`` at ``http://127.0.0.1:<port>/metrics`` (a stand-in exporter); yields ``host:port``."""
    body = metrics_file.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", EXPOSITION_CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="static-exporter")
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
