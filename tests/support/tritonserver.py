"""A real Triton Inference Server (2.51, CPU, python backend) on free loopback ports, for tests and benchmarks.

The server comes from the ``nvidia-pytriton==0.7.0`` wheel that ``scripts/setup.sh`` installs into
``.venv-triton`` and copies to ``.tools/tritonserver/`` (``install.json`` there records the library path
and the venv). :func:`triton_install` returns None when that was not done, so tests can skip with
:data:`NOT_INSTALLED`.

    server = start_tritonserver(repo, tmp, models=["mlp_onnx"])
    try:
        ...  # server.http_url, server.grpc_port, server.metrics_url
    finally:
        server.stop()
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INSTALL_DIR = REPO / ".tools" / "tritonserver"
MODELS_SOURCE = Path(__file__).resolve().parent / "triton_models"
NOT_INSTALLED = (
    "tritonserver is not installed: run scripts/setup.sh (without MLPLAT_SKIP_TRITON=1) to create "
    ".venv-triton and .tools/tritonserver"
)

TEST_MODELS: dict[str, str] = {
    "mlp_onnx": "python backend running a generated ONNX MLP with onnxruntime: FP32 [-1,4] -> FP32 [-1,3], "
    "dynamic batching",
    "broken_init": "initialize raises: the model fails to load with its own message",
    "multi_io": "INT64 ids with a variable dimension, FP32 and BYTES inputs; INT64, FP32, BYTES, INT32 outputs",
    "versioned": "two versions, version policy latest 1: answers its version number",
}
BROKEN_MESSAGE = "broken_init: weights file weights.bin is missing from the model repository"
"""What ``broken_init`` raises in initialize (the server reports it in the load error)."""


@dataclass(frozen=True)
class TritonInstall:
    """Where the server files are and what environment the binary needs."""

    root: Path
    """``.tools/tritonserver`` (``bin/tritonserver``, ``backends/``, ``caches/``)."""
    venv_bin: Path
    """The server venv's ``bin``: first on PATH so the python backend stub runs that venv's Python."""
    ld_library_path: tuple[Path, ...]
    python_path: tuple[Path, ...] = ()
    """Extra PYTHONPATH for the server's Python (the GPU benchmark's numpy<2 overlay)."""

    @property
    def binary(self) -> Path:
        return self.root / "bin" / "tritonserver"

    @property
    def backends(self) -> Path:
        return self.root / "backends"

    @property
    def python(self) -> Path:
        return self.venv_bin / "python"

    def environment(self) -> dict[str, str]:
        """The process environment for ``tritonserver`` (and Python scripts that need onnx/numpy<2)."""
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
        libraries = [str(path) for path in self.ld_library_path]
        if os.environ.get("LD_LIBRARY_PATH"):
            libraries.append(os.environ["LD_LIBRARY_PATH"])
        env["LD_LIBRARY_PATH"] = os.pathsep.join(libraries)
        env["PATH"] = os.pathsep.join([str(self.venv_bin), os.environ.get("PATH", "")])
        env["VIRTUAL_ENV"] = str(self.venv_bin.parent)
        if self.python_path:
            env["PYTHONPATH"] = os.pathsep.join(str(path) for path in self.python_path)
        return env


def triton_install(root: Path = INSTALL_DIR) -> TritonInstall | None:
    """The installed server, or None when ``scripts/setup.sh`` has not installed it (or it is incomplete)."""
    info_file = root / "install.json"
    if not info_file.is_file():
        return None
    info = json.loads(info_file.read_text())
    # paths inside the checkout are stored relative to it
    venv_bin = REPO / info["venv_bin"]
    install = TritonInstall(
        root=root,
        venv_bin=venv_bin,
        ld_library_path=tuple(REPO / path for path in info["ld_library_path"]),
    )
    stub = install.backends / "python" / "triton_python_backend_stub"
    if not (install.binary.is_file() and stub.is_file() and install.python.exists()):
        return None
    return install


CHART_LIKE_SETTINGS = (
    "--allow-metrics=true",
    "--allow-cpu-metrics=true",
    "--metrics-interval-ms=500",
    # mlplat's chart runs Triton with latency summaries: p99 comes from the summary quantiles
    "--metrics-config=summary_latencies=true",
    "--exit-on-error=false",
    "--strict-readiness=true",
    "--exit-timeout-secs=2",
)
"""Server flags the tests run with: those of charts/triton that matter on one machine, and a short exit."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TritonServer:
    """A running ``tritonserver`` process on loopback."""

    http_url: str
    grpc_port: int
    metrics_url: str
    model_repository: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    log_path: Path = field(repr=False)
    shm_prefix: str = field(repr=False, default="")

    @property
    def http_port(self) -> int:
        return int(self.http_url.rsplit(":", 1)[1])

    def log(self) -> str:
        """The server's output so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM, wait for Triton's own exit timeout, then SIGKILL; remove the shared memory it left."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # a killed server (by us, or by anyone) leaves the python backend's shared-memory regions behind
        _clean_shm(self.shm_prefix)

    def __enter__(self) -> TritonServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _clean_shm(prefix: str) -> None:
    if not prefix:
        return
    shm = Path("/dev/shm")
    for entry in shm.glob(f"{prefix}*") if shm.is_dir() else ():
        entry.unlink(missing_ok=True)


def start_tritonserver(
    model_repository: Path,
    workdir: Path,
    *,
    models: Sequence[str] = (),
    extra_args: Sequence[str] = (),
    ready_timeout_s: float = 60,
    install: TritonInstall | None = None,
    settings: Sequence[str] | None = None,
) -> TritonServer:
    """Start tritonserver (explicit model control) and return once ``/v2/health/live`` answers.

    Models in ``models`` are loaded at start; readiness may still be false when one of them fails to
    load (and ``--exit-on-error`` is false, so the server stays up to say why). Raises RuntimeError
    with the server log when the binary is missing or does not come up in time. ``install`` defaults
    to :func:`triton_install` (the GPU benchmark passes its own). ``settings`` replaces the
    chart-like flags of :data:`CHART_LIKE_SETTINGS` (``[]``: Triton's defaults).
    """
    install = install or triton_install()
    if install is None:
        raise RuntimeError(NOT_INSTALLED)
    workdir.mkdir(parents=True, exist_ok=True)
    http_port, grpc_port, metrics_port = _three_ports()
    # a unique shared-memory prefix per server: parallel servers never collide, and a kill is cleaned up
    shm_prefix = f"mlplat_{uuid.uuid4().hex[:8]}_"
    command = [
        str(install.binary),
        f"--model-repository={model_repository}",
        f"--backend-directory={install.backends}",
        f"--cache-directory={install.root / 'caches'}",
        "--http-address=127.0.0.1",
        f"--http-port={http_port}",
        "--grpc-address=127.0.0.1",
        f"--grpc-port={grpc_port}",
        "--metrics-address=127.0.0.1",
        f"--metrics-port={metrics_port}",
        "--model-control-mode=explicit",
        *(CHART_LIKE_SETTINGS if settings is None else settings),
        f"--backend-config=python,shm-region-prefix-name={shm_prefix}",
        *[f"--load-model={name}" for name in models],
        *extra_args,
    ]
    log_path = workdir / f"tritonserver-{http_port}.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=install.environment(), cwd=workdir
        )
    server = TritonServer(
        http_url=f"http://127.0.0.1:{http_port}",
        grpc_port=grpc_port,
        metrics_url=f"http://127.0.0.1:{metrics_port}/metrics",
        model_repository=model_repository,
        process=process,
        log_path=log_path,
        shm_prefix=shm_prefix,
    )
    deadline = time.monotonic() + ready_timeout_s
    while True:
        if _answers(f"{server.http_url}/v2/health/live"):
            return server
        if process.poll() is not None:
            _clean_shm(shm_prefix)
            raise RuntimeError(f"tritonserver exited with {process.returncode}:\n{server.log()[-4000:]}")
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"tritonserver not live after {ready_timeout_s:.0f}s:\n{server.log()[-4000:]}")
        time.sleep(0.1)


def _three_ports() -> tuple[int, int, int]:
    ports: set[int] = set()
    while len(ports) < 3:
        ports.add(free_port())
    http, grpc, metrics = sorted(ports)
    return http, grpc, metrics


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def write_test_models(dest: Path) -> dict[str, str]:
    """Write the test model repository to ``dest`` (including the generated ONNX file).

    Returns ``{model: what it exercises}``. The ONNX MLP is the example repository's, built with
    ``onnx.helper`` by ``scripts/make_example_models.py`` (the test model's ``model.py`` runs it with
    onnxruntime in Triton's python backend, binding tensors by the names the ONNX file declares).
    """
    dest.mkdir(parents=True, exist_ok=True)
    for name in TEST_MODELS:
        target = dest / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(MODELS_SOURCE / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.onnx"))
    make_onnx(dest)
    return dict(TEST_MODELS)


def make_onnx(repository: Path) -> Path:
    """Generate ``<repository>/mlp_onnx/1/model.onnx`` (FP32 [N,4] -> [N,3]) with the example script, in
    the server venv (which has onnx) or, without one, this Python."""
    script = REPO / "scripts" / "make_example_models.py"
    install = triton_install()
    if install is not None:
        python, env = str(install.python), install.environment()
    else:
        import sys

        python, env = sys.executable, dict(os.environ)
    path = repository / "mlp_onnx" / "1" / "model.onnx"
    result = subprocess.run(
        [python, str(script), "--repository", str(repository), "--version", "1", "--seed", "1234"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0 or not path.is_file():
        raise RuntimeError(
            f"could not generate {path} with {python}: {(result.stdout + result.stderr).strip()[-2000:]}"
        )
    return path
