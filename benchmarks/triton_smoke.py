"""Triton smoke gate and inference benchmark against a real local tritonserver (2.51 from nvidia-pytriton).

CPU (default, under a minute): starts the server with the test model repository, runs the smoke gate
(`eksctl_ml.serving.smoke.run_smoke`, metrics check included) --runs times and prints its median wall
time, then drives the ONNX model (python backend + onnxruntime) through tritonclient HTTP at
concurrency 1 and 4 for --seconds each: requests/s, p50 and p99 latency.

GPU (--gpu, on a machine with an NVIDIA GPU and torch): serves a torch MLP on the GPU (python backend,
DLPack in and out) three times and prints each configuration's ratio to Triton's defaults:
  defaults: no server flags, no dynamic batching, one model instance;
  chart flags only: the chart's server flags, the model as in defaults;
  mlplat:   the static flags of charts/triton/templates/deployment.yaml, and the batching/instance
            settings of examples/model-repository/mlp_onnx/config.pbtxt (preferred batch sizes, max
            queue delay, instance count) on the same model.
The GPU machine needs no setup.sh: --bundle is a tar.xz of the server made here with --make-bundle.

Run: python benchmarks/triton_smoke.py [--runs N] [--seconds S]
     python benchmarks/triton_smoke.py --make-bundle triton-bundle.tar.xz [--bundle-python 3.12]
     python benchmarks/triton_smoke.py --gpu --bundle triton-bundle.tar.xz [--pythonpath DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from tests.support.tritonserver import (  # noqa: E402 - the repo root is put on sys.path first
    TritonInstall,
    start_tritonserver,
    triton_install,
    write_test_models,
)

CPU_MODELS = ("mlp_onnx", "multi_io", "versioned")
HARNESS_FLAGS = ["--exit-timeout-secs=2"]  # only so that each run stops quickly
GPU_FEATURES = 1024
GPU_HIDDEN = 4096
GPU_MAX_BATCH = 64


@dataclass
class Load:
    """What one load run measured."""

    label: str
    concurrency: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int = 0

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def drive(label: str, make_call: Callable[[], Callable[[], None]], concurrency: int, seconds: float) -> Load:
    """Run ``concurrency`` closed-loop workers for ``seconds``; each makes its own client in its own thread
    (tritonclient's HTTP client runs on a per-thread gevent hub) and warms it up before the clock starts."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors: list[list[str]] = [[] for _ in range(concurrency)]
    ready = threading.Barrier(concurrency + 1)
    window: list[float] = []

    def worker(index: int) -> None:
        try:
            call = make_call()
            for _ in range(3):  # warm-up: connection, first-request costs
                call()
        except Exception as exc:
            errors[index].append(repr(exc))
            ready.abort()  # nothing to measure: release everyone
            return
        try:
            ready.wait()
            ready.wait()  # the main thread set the window in between
        except threading.BrokenBarrierError:
            return
        deadline = window[0]
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                call()
            except Exception as exc:
                errors[index].append(repr(exc))
                continue
            latencies[index].append((time.perf_counter() - began) * 1000)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        ready.wait()
        start = time.perf_counter()
        window.append(start + seconds)
        ready.wait()
    except threading.BrokenBarrierError:
        for thread in threads:
            thread.join()
        first = next(message for chunk in errors for message in chunk)
        raise RuntimeError(f"{label}: the warm-up requests failed: {first}") from None
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    merged = [value for chunk in latencies for value in chunk]
    failures = [message for chunk in errors for message in chunk]
    if failures:
        print(f"{label}: {len(failures)} failed request(s), first: {failures[0]}", file=sys.stderr)
    return Load(label, concurrency, len(merged), elapsed, merged, len(failures))


def print_loads(loads: Sequence[Load]) -> None:
    print(f"  {'configuration':<28} {'conc':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for load in loads:
        print(
            f"  {load.label:<28} {load.concurrency:>4} {load.throughput:>9.1f} {load.percentile(50):>8.2f} "
            f"{load.percentile(99):>8.2f} {load.errors:>6}"
        )


# --- CPU --------------------------------------------------------------------------------------------


def cpu_benchmark(runs: int, seconds: float) -> None:
    import numpy as np
    import tritonclient.http as triton_http

    from eksctl_ml.adapters.triton.client import HttpTritonClient
    from eksctl_ml.adapters.triton.protocol import TritonEndpoint
    from eksctl_ml.serving.smoke import run_smoke

    if triton_install() is None:
        sys.exit("tritonserver is not installed: run scripts/setup.sh first")
    with tempfile.TemporaryDirectory() as scratch:
        repository = Path(scratch) / "models"
        write_test_models(repository)
        began = time.perf_counter()
        server = start_tritonserver(repository, Path(scratch) / "work", models=CPU_MODELS)
        startup = time.perf_counter() - began
        try:
            endpoint = TritonEndpoint(server.http_url, metrics_url=server.metrics_url)
            walls = []
            for _ in range(runs):
                began = time.perf_counter()
                with HttpTritonClient(endpoint) as client:
                    report = run_smoke(client, list(CPU_MODELS), timeout_s=60)
                walls.append(time.perf_counter() - began)
                if not report.ok:
                    sys.exit(f"smoke gate failed: {report.failures}")
            target = server.http_url.removeprefix("http://")
            batch = np.linspace(0, 1, 4, dtype=np.float32).reshape(1, 4)

            def make_call() -> Callable[[], None]:
                client = triton_http.InferenceServerClient(target)
                item = triton_http.InferInput("INPUT0", [1, 4], "FP32")
                item.set_data_from_numpy(batch)
                wanted = [triton_http.InferRequestedOutput("OUTPUT0")]

                def call() -> None:
                    client.infer("mlp_onnx", [item], outputs=wanted)

                return call

            loads = [drive("mlp_onnx (CPU, tritonclient)", make_call, c, seconds) for c in (1, 4)]
        finally:
            server.stop()
    print(f"tritonserver 2.51 on CPU ({os.cpu_count()} cpus), python {sys.version.split()[0]}")
    print(f"  server start to live: {startup:.2f} s")
    print(
        f"  smoke gate on {len(CPU_MODELS)} models (live/ready, metadata, 1 inference each, metrics): median "
        f"{statistics.median(walls) * 1000:.0f} ms of {runs} runs (min {min(walls) * 1000:.0f}, "
        f"max {max(walls) * 1000:.0f})"
    )
    print_loads(loads)


# --- GPU --------------------------------------------------------------------------------------------

GPU_MODEL_PY = '''\
"""Triton python backend: a torch MLP on the GPU; DLPack in and out (no numpy on the data path)."""

import torch
import triton_python_backend_utils as pb_utils
from torch.utils.dlpack import from_dlpack, to_dlpack


class TritonPythonModel:
    def initialize(self, args):
        torch.manual_seed(0)
        self.device = torch.device("cuda", int(args.get("model_instance_device_id", 0)))
        self.net = torch.nn.Sequential(
            torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(),
            torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(),
            torch.nn.Linear(HIDDEN, FEATURES),
        ).to(self.device).eval()

    @torch.inference_mode()
    def execute(self, requests):
        parts = [from_dlpack(pb_utils.get_input_tensor_by_name(r, "INPUT0").to_dlpack()) for r in requests]
        sizes = [p.shape[0] for p in parts]
        result = self.net(torch.cat(parts).to(self.device, non_blocking=True)).float().cpu().contiguous()
        responses = []
        for chunk in torch.split(result, sizes):
            out = pb_utils.Tensor.from_dlpack("OUTPUT0", to_dlpack(chunk.contiguous()))
            responses.append(pb_utils.InferenceResponse(output_tensors=[out]))
        return responses
'''


def example_model_settings(path: Path) -> dict[str, Any]:
    """Batching and instance settings of the example model's config.pbtxt (what mlplat ships)."""
    text = path.read_text()

    def numbers(pattern: str) -> list[int]:
        match = re.search(pattern, text, re.S)
        return [int(n) for n in re.findall(r"\d+", match.group(1))] if match else []

    return {
        "preferred_batch_size": numbers(r"preferred_batch_size:\s*\[([^\]]*)\]"),
        "max_queue_delay_microseconds": (numbers(r"max_queue_delay_microseconds:\s*(\d+)") or [0])[0],
        "instance_count": (numbers(r"instance_group\s*\[\s*\{[^}]*?count:\s*(\d+)") or [1])[0],
    }


def chart_server_flags(path: Path) -> list[str]:
    """The chart's static tritonserver flags that tune serving (not ports, repository or model control)."""
    owned = (
        *("--model-repository", "--model-control-mode", "--load-model", "--http-port", "--grpc-port"),
        *("--metrics-port", "--exit-timeout-secs", "--exit-on-error", "--log-"),
    )
    flags = []
    for line in path.read_text().splitlines():
        match = re.match(r"\s*- (--[a-z0-9-]+(?:=\S+)?)\s*$", line)
        if match and "{{" not in line and not match.group(1).startswith(owned):
            flags.append(match.group(1))
    return flags


def gpu_config(name: str, batching: dict[str, Any] | None, instances: int) -> str:
    lines = [
        f'name: "{name}"',
        'backend: "python"',
        f"max_batch_size: {GPU_MAX_BATCH}",
        f'input [ {{ name: "INPUT0" data_type: TYPE_FP32 dims: [ {GPU_FEATURES} ] }} ]',
        f'output [ {{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ {GPU_FEATURES} ] }} ]',
        f"instance_group [ {{ count: {instances} kind: KIND_GPU }} ]",
    ]
    if batching is not None:
        sizes = ", ".join(str(s) for s in batching["preferred_batch_size"])
        lines.append(
            f"dynamic_batching {{ preferred_batch_size: [ {sizes} ] "
            f"max_queue_delay_microseconds: {batching['max_queue_delay_microseconds']} }}"
        )
    return "\n".join(lines) + "\n"


def bundle_install(bundle: Path, into: Path, pythonpath: Sequence[Path]) -> TritonInstall:
    """Unpack a --make-bundle archive and arrange it for this Python (stub, library path)."""
    with tarfile.open(bundle) as archive:
        archive.extractall(into, filter="data")
    root = into / "pytriton" / "tritonserver"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = root / "python_backend_stubs" / version / "triton_python_backend_stub"
    if not stub.is_file():
        sys.exit(f"the bundle has no python backend stub for Python {version}: make it with --bundle-python {version}")
    shutil.copy2(stub, root / "backends" / "python" / stub.name)
    libdir = Path(str(sysconfig.get_config_var("LIBDIR")))
    soname = str(sysconfig.get_config_var("INSTSONAME") or f"libpython{version}.so.1.0")
    found = [d for d in (libdir, Path("/usr/lib/x86_64-linux-gnu")) if (d / soname).exists()]
    if not found:
        sys.exit(f"{soname} not found (the python backend stub embeds it): install libpython{version}")
    return TritonInstall(
        root=root,
        venv_bin=Path(sys.executable).parent,
        ld_library_path=(found[0], into / "nvidia_pytriton.libs"),
        python_path=tuple(pythonpath),
    )


class BinaryClient:
    """A minimal KServe v2 HTTP client (binary tensor extension) for machines without tritonclient."""

    def __init__(self, url: str, model: str) -> None:
        host = url.removeprefix("http://")
        self.connection = http.client.HTTPConnection(host, timeout=60)
        self.path = f"/v2/models/{model}/infer"

    def infer(self, payload: bytes, rows: int) -> bytes:
        header = json.dumps(
            {
                "inputs": [
                    {
                        "name": "INPUT0",
                        "datatype": "FP32",
                        "shape": [rows, GPU_FEATURES],
                        "parameters": {"binary_data_size": len(payload)},
                    }
                ],
                "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": True}}],
            }
        ).encode()
        self.connection.request(
            "POST",
            self.path,
            body=header + payload,
            headers={"Inference-Header-Content-Length": str(len(header)), "Content-Type": "application/octet-stream"},
        )
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:300]!r}")
        length = int(response.getheader("Inference-Header-Content-Length") or len(body))
        document = json.loads(body[:length])
        shape = document["outputs"][0]["shape"]
        if shape != [rows, GPU_FEATURES] or len(body) - length != rows * GPU_FEATURES * 4:
            raise RuntimeError(f"unexpected output: shape {shape}, {len(body) - length} bytes")
        return body[length:]


def gpu_benchmark(bundle: Path, pythonpath: Sequence[Path], seconds: float, concurrencies: Sequence[int]) -> None:
    import numpy as np

    settings = example_model_settings(REPO / "examples" / "model-repository" / "mlp_onnx" / "config.pbtxt")
    flags = chart_server_flags(REPO / "charts" / "triton" / "templates" / "deployment.yaml")
    payload = np.linspace(0, 1, GPU_FEATURES, dtype=np.float32).tobytes()
    # the chart's flags alone, then with the example's batching: which of the two moves the figures
    cases = [
        ("Triton defaults", [], None, 1),
        ("chart flags only", flags, None, 1),
        ("mlplat (chart + example cfg)", flags, settings, int(settings["instance_count"])),
    ]
    loads: list[Load] = []
    with tempfile.TemporaryDirectory() as scratch:
        install = bundle_install(bundle, Path(scratch) / "server", pythonpath)
        for label, server_flags, batching, instances in cases:
            repository = Path(scratch) / label.split()[0].lower() / "models"
            (repository / "gpu_mlp" / "1").mkdir(parents=True)
            model_py = GPU_MODEL_PY.replace("FEATURES", str(GPU_FEATURES)).replace("HIDDEN", str(GPU_HIDDEN))
            (repository / "gpu_mlp" / "1" / "model.py").write_text(model_py)
            (repository / "gpu_mlp" / "config.pbtxt").write_text(gpu_config("gpu_mlp", batching, instances))
            server = start_tritonserver(
                repository,
                repository.parent / "work",
                models=["gpu_mlp"],
                install=install,
                settings=[*server_flags, *HARNESS_FLAGS],
                ready_timeout_s=300,
            )
            try:
                url = server.http_url

                def make_call(url: str = url) -> Callable[[], None]:
                    client = BinaryClient(url, "gpu_mlp")

                    def call() -> None:
                        client.infer(payload, 1)

                    return call

                for concurrency in concurrencies:
                    loads.append(drive(label, make_call, concurrency, seconds))
            except Exception:
                print(server.log()[-3000:], file=sys.stderr)
                raise
            finally:
                server.stop()
    gpu = subprocess.run(
        ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    shape = f"{GPU_FEATURES}-{GPU_HIDDEN}-{GPU_HIDDEN}-{GPU_FEATURES}"
    print(f"tritonserver 2.51 (python backend, torch {shape} MLP) on {gpu}")
    print(f"  mlplat server flags: {' '.join(flags) or '(none)'}")
    print(
        f"  mlplat model settings: dynamic batching {settings['preferred_batch_size']} "
        f"max delay {settings['max_queue_delay_microseconds']} us, {settings['instance_count']} instance(s)"
    )
    print(f"  requests of batch 1, {seconds:g} s per run")
    print_loads(loads)
    for label, *_ in cases[1:]:
        for concurrency in concurrencies:
            base = next(x for x in loads if x.label == cases[0][0] and x.concurrency == concurrency)
            tuned = next(x for x in loads if x.label == label and x.concurrency == concurrency)
            ratio = tuned.throughput / base.throughput if base.throughput else float("nan")
            p99 = tuned.percentile(99) / base.percentile(99) if base.latencies_ms else float("nan")
            print(
                f"  {label} / defaults, concurrency {concurrency:>3}: throughput x{ratio:.2f}, p99 latency x{p99:.2f}"
            )


def make_bundle(out: Path, python_version: str) -> None:
    """Pack the installed server (setup.sh's .venv-triton) with the stub for ``python_version``."""
    install = triton_install()
    if install is None:
        sys.exit("tritonserver is not installed: run scripts/setup.sh first")
    site = next((REPO / ".venv-triton" / "lib").glob("python3.*/site-packages"))
    members = ["pytriton/tritonserver/bin", "pytriton/tritonserver/backends", "pytriton/tritonserver/caches"]
    members += [f"pytriton/tritonserver/python_backend_stubs/{python_version}", "nvidia_pytriton.libs"]
    with tarfile.open(out, "w:xz", preset=6) as archive:
        for member in members:
            archive.add(site / member, arcname=member)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="smoke gate runs (CPU mode)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per load run")
    parser.add_argument("--gpu", action="store_true", help="compare mlplat's settings with Triton defaults on a GPU")
    parser.add_argument("--bundle", type=Path, help="server archive made with --make-bundle (GPU mode)")
    parser.add_argument("--pythonpath", type=Path, action="append", default=[], help="PYTHONPATH of the server")
    parser.add_argument("--concurrency", type=int, action="append", help="GPU mode concurrencies (default 1, 16)")
    parser.add_argument("--make-bundle", type=Path, help="write the server archive for a GPU machine and exit")
    parser.add_argument("--bundle-python", default="3.12", help="Python version of the GPU machine")
    args = parser.parse_args()
    if args.make_bundle:
        make_bundle(args.make_bundle, args.bundle_python)
    elif args.gpu:
        if args.bundle is None:
            parser.error("--gpu needs --bundle (make it with --make-bundle where setup.sh ran)")
        gpu_benchmark(args.bundle, args.pythonpath, args.seconds, args.concurrency or [1, 16])
    else:
        cpu_benchmark(args.runs, args.seconds)


if __name__ == "__main__":
    main()
