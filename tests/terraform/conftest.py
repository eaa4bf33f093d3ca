"""Session fixtures for running the real Terraform offline, and the AWS emulator the stacks apply against.

* ``terraform_bin``: ``terraform`` on PATH, else every test that needs it is skipped with the reason.
* ``provider_mirror``: the filesystem mirror holding hashicorp/aws (``$MLPLAT_TF_PROVIDER_MIRROR``, else
  searched below a short list of well-known roots), else skip.
* ``tf_env``: the environment dict for every terraform command: ``TF_CLI_CONFIG_FILE`` pointing at a CLI
  config written into a temp folder (providers from the mirror only, ``direct`` excluded), plus
  ``CHECKPOINT_DISABLE=1``, ``TF_IN_AUTOMATION=1``, ``TF_INPUT=0``.
* ``tf_tree``: a private copy of ``terraform/``; commands run there with their own ``TF_DATA_DIR``, so no
  ``.terraform/``, lock file, plan or state is ever written into the checkout.
* ``stack_lifecycle``: the network -> iam -> storage apply / re-plan / destroy run (see ``lifecycle.py``)
  against a moto server (``MotoServer``: a free loopback port, ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``)
  started for it and stopped as soon as it is done (and at session end at the latest).
* ``checkov_scan``: checkov over the lifecycle's first plans of each stack.
* ``tf_jobs``: runs the slow terraform work in the background so that it overlaps: most of the emulator
  lifecycle is the provider waiting (S3 lifecycle rules, KMS propagation), while ``validate`` and
  ``terraform test`` are CPU-bound. Which jobs to start is read from the collected tests (the fixtures they
  request and their ``config``/``module`` parameters), so a ``-k`` selection starts only what it needs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.checkov_scan import Scan, find_checkov, run_checkov
from tests.terraform.lifecycle import Lifecycle, run_lifecycle
from tests.terraform.tf import CheckResult, base_env, cli_config_text, copy_tree, find_provider_mirror, terraform

Job = tuple[str, str]  # (kind, configuration)
JOBS_KEY = pytest.StashKey[set[Job]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted: set[Job] = set()
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        params: dict[str, Any] = getattr(getattr(item, "callspec", None), "params", {})
        if "stack_lifecycle" in names:
            wanted.add(("lifecycle", ""))
        if "checkov_scan" in names and find_checkov() is not None:
            wanted.update({("lifecycle", ""), ("checkov", "")})
        if "validate_job" in names and "config" in params:
            wanted.add(("validate", str(params["config"])))
        if "tftest_job" in names and "module" in params:
            wanted.add(("tftest", str(params["module"])))
    config.stash[JOBS_KEY] = wanted
    # Tests that wait for the emulator lifecycle go after the other tests of this folder (and only of this
    # folder: the background work must not slow down timing-sensitive tests elsewhere).
    here = Path(__file__).parent
    waiting = [i for i in items if {"stack_lifecycle", "checkov_scan"} & set(getattr(i, "fixturenames", ()))]
    local = [n for n, i in enumerate(items) if here in Path(str(i.path)).parents]
    if waiting and local:
        ids = {id(i) for i in waiting}
        last = max(local)
        before = [i for i in items[: last + 1] if id(i) not in ids]
        items[:] = before + waiting + items[last + 1 :]


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    found = shutil.which("terraform")
    if found is None:
        pytest.skip("terraform is not on PATH")
    return found


@pytest.fixture(scope="session")
def provider_mirror(terraform_bin: str) -> Path:
    mirror = find_provider_mirror()
    if mirror is None:
        pytest.skip(
            "no offline provider mirror with registry.terraform.io/hashicorp/aws found "
            "(set MLPLAT_TF_PROVIDER_MIRROR to the folder that contains registry.terraform.io)"
        )
    return mirror


def _write_env(mirror: Path, folder: Path) -> dict[str, str]:
    cli_config = folder / "terraform.rc"
    cli_config.write_text(cli_config_text(mirror), encoding="utf-8")
    return base_env(cli_config)


@pytest.fixture(scope="session")
def tf_env(provider_mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for terraform commands (offline CLI config; add TF_DATA_DIR per configuration)."""
    return _write_env(provider_mirror, tmp_path_factory.mktemp("tf-cli"))


@pytest.fixture(scope="session")
def tf_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the repository's terraform/ folder."""
    return copy_tree(tmp_path_factory.mktemp("tf-tree"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _moto_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("moto") is not None


class MotoServer:
    """mlplat's embedded emulator (moto with its EKS/EC2/EFS gaps patched, as `--env local` uses) on a
    free loopback port; ``stop`` ends exactly the process it started."""

    def __init__(self, log: Path) -> None:
        self.log = log
        port = _free_port()
        command = [sys.executable, "-m", "eksctl_ml.emulator", "--host", "127.0.0.1", "--port", str(port)]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))
        self.endpoint = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).close()  # noqa: S310 - loopback
                return
            except OSError as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    tail = self.log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"moto server did not start:\n{tail}") from exc
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


################################################################################
# Background jobs
################################################################################


class TerraformJobs:
    """Terraform work started early in worker threads; tests wait for the result they need."""

    def __init__(self, env: dict[str, str], tree: Path, work: Path, wanted: set[Job]) -> None:
        self.env = env
        self.tree = tree
        self.work = work
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tf-job")
        self.slow = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tf-lifecycle")
        self.futures: dict[Job, Future[Any]] = {}
        self.lock = threading.Lock()
        self.emulator: MotoServer | None = None
        self.plans: Future[dict[str, Path]] = Future()
        # The lifecycle first: it is the longest and mostly waits.
        for job in sorted(wanted, key=lambda j: (j[0] != "lifecycle", j[0] == "checkov", j)):
            self.submit(job)

    def submit(self, job: Job) -> Future[Any]:
        with self.lock:
            if job not in self.futures:
                kind, config = job
                runner: Callable[[], Any]
                if kind == "lifecycle":
                    runner, pool = self._lifecycle, self.slow
                elif kind == "checkov":
                    runner, pool = self._checkov, self.pool
                elif kind == "validate":
                    runner, pool = (lambda: self._validate(config)), self.pool
                else:
                    runner, pool = (lambda: self._tftest(config)), self.pool
                self.futures[job] = pool.submit(runner)
            return self.futures[job]

    def result(self, job: Job, timeout: float = 900) -> Any:
        return self.submit(job).result(timeout=timeout)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.slow.shutdown(wait=True, cancel_futures=True)
        if self.emulator is not None:
            self.emulator.stop()

    def _data_dir(self, name: str) -> Path:
        folder = self.work / name.replace("/", "-")
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _validate(self, config: str) -> CheckResult:
        data = self._data_dir("validate-" + config)
        cwd = self.tree / config
        result = CheckResult()
        result.steps.append(
            terraform(["init", "-backend=false", "-input=false", "-no-color"], cwd=cwd, env=self.env, data_dir=data)
        )
        if result.ok:
            result.steps.append(terraform(["validate", "-no-color"], cwd=cwd, env=self.env, data_dir=data))
        return result

    def _tftest(self, module: str) -> CheckResult:
        data = self._data_dir("tftest-" + module)
        cwd = self.tree / module
        result = CheckResult()
        result.steps.append(
            terraform(["init", "-backend=false", "-input=false", "-no-color"], cwd=cwd, env=self.env, data_dir=data)
        )
        if not result.ok:
            return result
        junit = data / "junit.xml"
        result.steps.append(
            terraform(["test", "-no-color", f"-junit-xml={junit}"], cwd=cwd, env=self.env, data_dir=data, timeout=600)
        )
        if junit.exists():
            cases = list(ET.parse(junit).getroot().iter("testcase"))  # noqa: S314 - written by terraform just now
            result.run_count = len(cases)
            result.failed_runs = [
                str(c.get("name")) for c in cases if c.find("failure") is not None or c.find("error") is not None
            ]
        return result

    def _lifecycle(self) -> Lifecycle | str:
        if not _moto_installed():
            self.plans.set_result({})
            return "moto_server is not installed (pip install 'moto[server]==5.2.5')"
        try:
            self.emulator = MotoServer(self._data_dir("moto") / "moto.log")
            self.emulator.wait_ready()
            return run_lifecycle(self.tree, self.env, self.emulator.endpoint, self._data_dir("lifecycle"), self._plans)
        finally:
            if not self.plans.done():
                self.plans.set_result({})
            if self.emulator is not None:
                self.emulator.stop()

    def _plans(self, plans: dict[str, Path]) -> None:
        self.plans.set_result(plans)

    def _checkov(self) -> tuple[Scan | None, dict[str, Path]]:
        binary = find_checkov()
        if binary is None:
            return None, {}
        plans = self.plans.result(timeout=900)
        if not plans:
            return None, plans
        return run_checkov(binary, [plans[name] for name in sorted(plans)]), plans


@pytest.fixture(scope="session")
def tf_jobs(
    request: pytest.FixtureRequest, tf_env: dict[str, str], tf_tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TerraformJobs]:
    jobs = TerraformJobs(tf_env, tf_tree, tmp_path_factory.mktemp("tf-jobs"), request.config.stash.get(JOBS_KEY, set()))
    try:
        yield jobs
    finally:
        jobs.close()


@pytest.fixture(scope="session", autouse=True)
def _start_terraform_jobs_early(request: pytest.FixtureRequest) -> None:
    """Start the background jobs at the first test of this folder (without skipping anything when terraform
    is missing: the tests that need it skip themselves)."""
    wanted = request.config.stash.get(JOBS_KEY, set())
    if wanted and shutil.which("terraform") and find_provider_mirror() is not None:
        request.getfixturevalue("tf_jobs")


@pytest.fixture
def validate_job(tf_jobs: TerraformJobs) -> Callable[[str], CheckResult]:
    return lambda config: tf_jobs.result(("validate", config))  # type: ignore[no-any-return]


@pytest.fixture
def tftest_job(tf_jobs: TerraformJobs) -> Callable[[str], CheckResult]:
    return lambda module: tf_jobs.result(("tftest", module))  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def stack_lifecycle(tf_jobs: TerraformJobs) -> Lifecycle:
    """network -> iam -> storage applied, re-planned and destroyed once against the emulator."""
    life = tf_jobs.result(("lifecycle", ""))
    if isinstance(life, str):
        pytest.skip(life)
    if life.setup_error:
        pytest.fail(f"could not prepare the emulator: {life.setup_error}")
    return life  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def checkov_scan(request: pytest.FixtureRequest) -> tuple[Scan, dict[str, Path]]:
    if find_checkov() is None:
        pytest.skip("checkov not found: set MLPLAT_CHECKOV to its executable or put checkov on PATH")
    tf_jobs: TerraformJobs = request.getfixturevalue("tf_jobs")
    scan, plans = tf_jobs.result(("checkov", ""))
    if scan is None:
        pytest.fail("no plan JSON was produced by the emulator lifecycle")
    return scan, plans
