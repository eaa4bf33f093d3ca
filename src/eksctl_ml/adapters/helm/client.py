"""The Helm adapter over pyhelm3: ``upgrade --install --atomic --wait``, idempotent uninstall, status.

pyhelm3 builds helm's command lines and parses its JSON; this module drives its async API with one
``asyncio.run`` per call and works around what pyhelm3 0.5.8 gets wrong (see docs in TOOLING.md):

* ``disable_validation=True`` is broken (the flag is split into characters): it is never passed.
* Only a few failures are recognised ("connection refused" is a generic error): every failure is
  classified from helm's own stderr (:mod:`eksctl_ml.adapters.helm.errors`) into a HelmError
  carrying that stderr as ``detail``.
* Commands run through a shell: :class:`_Command` runs helm directly (no shell), with an optional
  extra environment, and logs the argv at DEBUG on ``eksctl_ml.helm``.

Values travel as data: pyhelm3 serialises them to JSON and feeds them to ``--values -`` on stdin, so
nothing a value contains (quotes, braces, newlines) is ever templated into a command line or logged.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from eksctl_ml.adapters.helm.errors import (
    HelmChartNotFoundError,
    HelmExecutableError,
    HelmTimeoutError,
    classify,
)
from eksctl_ml.adapters.helm.protocol import ReleaseStatus
from eksctl_ml.errors import HelmError

if TYPE_CHECKING:
    from pyhelm3 import Client

    from eksctl_ml.config.loader import Environment

log = logging.getLogger("eksctl_ml.helm")

T = TypeVar("T")

HELM_VAR = "MLPLAT_HELM"
DEFAULT_GRACE_S = 60.0
# Release and namespace names: DNS-1123 labels (helm's own rule; pyhelm3's models reject others).
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
INSTALL_HINT = "install Helm 3 >= 3.14 (scripts/setup.sh puts one in .tools/bin), or set MLPLAT_HELM to its path"


def find_helm() -> str | None:
    """The helm to run: ``$MLPLAT_HELM``, else ``helm`` on PATH, else the project's ``.tools/bin/helm``."""
    explicit = os.environ.get(HELM_VAR)
    if explicit:
        return explicit
    on_path = shutil.which("helm")
    if on_path:
        return on_path
    bundled = Path(__file__).resolve().parents[4] / ".tools" / "bin" / "helm"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return str(bundled)
    return None


def _make_command(
    executable: str,
    kubeconfig: Path | None,
    kube_context: str | None,
    extra_env: Mapping[str, str] | None,
    history_max: int,
) -> Any:
    """A pyhelm3 Command whose ``run`` execs helm without a shell and logs the argv at DEBUG."""
    from pyhelm3 import errors as pyhelm3_errors
    from pyhelm3.command import Command

    class _Command(Command):  # type: ignore[misc]
        async def run(self, command: list[Any], input: bytes | None = None) -> bytes:
            argv = [executable, *(str(part) for part in command)]
            if kubeconfig is not None:
                argv += ["--kubeconfig", str(kubeconfig)]
            if kube_context:
                argv += ["--kube-context", kube_context]
            log.debug("helm argv: %s", shlex.join(argv))
            env = {**os.environ, **extra_env} if extra_env else None
            started = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
            try:
                stdout, stderr = await proc.communicate(input)
            except asyncio.CancelledError:
                # Timed out or interrupted (Ctrl-C): stop helm rather than orphan it, then re-raise.
                await _stop(proc)
                raise
            log.debug("helm exited %s after %.1fs: %s", proc.returncode, time.monotonic() - started, argv[1])
            if proc.returncode == 0:
                return stdout
            text = stderr.decode(errors="replace").lower()
            error_cls = pyhelm3_errors.ReleaseNotFoundError if "release: not found" in text else pyhelm3_errors.Error
            raise error_cls(proc.returncode, stdout, stderr)

    return _Command(executable=executable, history_max_revisions=history_max)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    try:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
    except ProcessLookupError:
        return
    except TimeoutError:
        proc.kill()
        await proc.wait()


def _check_name(kind: str, value: str) -> None:
    if not _NAME_RE.fullmatch(value) or len(value) > 53:
        raise HelmError(
            f"invalid Helm {kind} name {value!r}",
            hint="use at most 53 lowercase letters, digits and '-', starting and ending with a letter or digit",
        )


def _plain_data(release: str, values: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return dict(json.loads(json.dumps(dict(values))))
    except (TypeError, ValueError) as exc:
        raise HelmError(
            f"the values for release {release} are not plain data: {exc}",
            hint="values may only hold strings, numbers, booleans, null, lists and mappings",
        ) from exc


def _same_version(a: str, b: str) -> bool:
    return a.removeprefix("v") == b.removeprefix("v")


class PyHelm3Client:
    """:class:`~eksctl_ml.adapters.helm.protocol.HelmClient` over pyhelm3 and the helm CLI.

    ``executable`` defaults to :func:`find_helm`. ``env`` adds environment variables for helm (e.g.
    ``HELM_CACHE_HOME``). ``grace_s`` is how long past helm's own ``--timeout`` mlplat waits before it
    stops helm itself. Construction runs nothing; the first call checks that helm works.
    """

    def __init__(
        self,
        executable: str | Path | None = None,
        *,
        kubeconfig: Path | None = None,
        kube_context: str | None = None,
        env: Mapping[str, str] | None = None,
        grace_s: float = DEFAULT_GRACE_S,
        history_max: int = 10,
    ) -> None:
        self.executable = str(executable) if executable is not None else None
        self.kubeconfig = kubeconfig
        self.kube_context = kube_context
        self.env = dict(env) if env else None
        self.grace_s = grace_s
        self.history_max = history_max
        self._client: Client | None = None
        self._command: Any = None
        self._lock = threading.Lock()

    # --- plumbing ---------------------------------------------------------------------------------

    @property
    def _where(self) -> str:
        if self.kube_context:
            return f"kube context {self.kube_context}"
        return f"kubeconfig {self.kubeconfig}" if self.kubeconfig else ""

    def _pyhelm3(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client, self._command = self._build()
            return self._client

    def _helm(self) -> Any:
        """The pyhelm3 Command (helm's subcommands) the client runs through."""
        self._pyhelm3()
        return self._command

    def _build(self) -> tuple[Client, Any]:
        from pyhelm3 import Client

        executable = self.executable or find_helm()
        if executable is None:
            raise HelmExecutableError("helm was not found", hint=INSTALL_HINT)
        command = _make_command(executable, self.kubeconfig, self.kube_context, self.env, self.history_max)
        try:
            # Client() checks the file and reads `helm version` synchronously (it picks --atomic for
            # Helm 3 and --rollback-on-failure for Helm 4 from it).
            return Client(command=command, executable=executable), command
        except AssertionError as exc:
            raise HelmExecutableError(f"helm was not found at {executable}", hint=INSTALL_HINT) from exc
        except subprocess.CalledProcessError as exc:
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc.stderr)
            raise HelmExecutableError(f"{executable} did not run", detail=stderr.strip(), hint=INSTALL_HINT) from exc
        except (OSError, ValueError) as exc:
            raise HelmExecutableError(f"{executable} is not a usable helm: {exc}", hint=INSTALL_HINT) from exc

    def _run(self, make: Callable[[], Awaitable[T]], deadline_s: float | None) -> T:
        async def main() -> T:
            if deadline_s is None:
                return await make()
            return await asyncio.wait_for(make(), deadline_s)

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(main())
        # Called from inside an event loop (a notebook, an async caller): run on a worker thread.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, main()).result()

    def _call(
        self, action: str, release: str, namespace: str, make: Callable[[], Awaitable[T]], timeout_s: float | None
    ) -> T:
        from pydantic import ValidationError
        from pyhelm3 import errors as pyhelm3_errors

        deadline = None if timeout_s is None else timeout_s + self.grace_s
        subject = f"helm {action} {release} (namespace {namespace})" if release else f"helm {action}"
        try:
            return self._run(make, deadline)
        except pyhelm3_errors.Error as exc:
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc.stderr)
            raise classify(stderr, action=action, release=release, namespace=namespace, context=self._where) from exc
        except TimeoutError as exc:
            raise HelmTimeoutError(
                f"{subject} did not finish within {deadline:.0f}s; mlplat stopped it",
                hint=f"helm ignored its own --timeout: inspect `helm history {release} -n {namespace}` "
                "before rerunning (an interrupted upgrade may need `helm rollback`)",
            ) from exc
        except ValidationError as exc:
            raise HelmError(
                f"{subject}: unexpected chart or release data: {exc.errors()[0].get('msg', exc)}",
                detail=str(exc),
            ) from exc
        except (ValueError, KeyError, yaml.YAMLError) as exc:
            raise HelmError(f"{subject}: output mlplat cannot read: {exc}") from exc
        except OSError as exc:
            raise HelmExecutableError(f"{subject}: helm could not be started: {exc}", hint=INSTALL_HINT) from exc

    # --- HelmClient -------------------------------------------------------------------------------

    def version(self) -> str:
        """Helm's version, e.g. ``v3.17.3``."""
        helm = self._helm()

        async def go() -> str:
            return str(await helm.version()).strip()

        return self._call("version", "", "", go, 30)

    def upgrade_install(
        self,
        release: str,
        chart: str,
        *,
        namespace: str,
        version: str | None,
        values: Mapping[str, Any],
        timeout_s: int,
        repo: str | None = None,
        wait: bool = True,
    ) -> ReleaseStatus:
        """``helm upgrade --install --atomic --wait --wait-for-jobs --timeout <n>s --create-namespace``
        (without ``--atomic --wait --wait-for-jobs`` when ``wait`` is False).

        ``chart`` is a chart name in ``repo`` or (``repo`` None) a local chart folder/archive. The chart
        is resolved first (``helm show chart``) and must carry exactly the pinned ``version``.
        """
        _check_name("release", release)
        _check_name("namespace", namespace)
        data = _plain_data(release, values)
        chart_ref: str | Path = chart
        if repo is None:
            chart_ref = Path(chart).resolve()
            if not chart_ref.exists():
                raise HelmChartNotFoundError(
                    f"chart {chart} of release {release} not found",
                    hint="check the chart path in helm-values/catalog.yaml",
                )
        client = self._pyhelm3()

        async def go() -> ReleaseStatus:
            resolved = await client.get_chart(chart_ref, repo=repo, version=version)
            if version is not None and not _same_version(str(resolved.metadata.version), version):
                raise HelmError(
                    f"chart {resolved.metadata.name} at {chart} is version {resolved.metadata.version}, "
                    f"but release {release} pins {version}",
                    hint="bump the pin in helm-values/catalog.yaml together with the chart's Chart.yaml",
                )
            helm4 = client.version.major >= 4
            revision = await client.install_or_upgrade_release(
                release,
                resolved,
                data,
                # --atomic on Helm 3, --rollback-on-failure on Helm 4 (each name warns on the other)
                atomic=wait and not helm4,
                rollback_on_failure=wait and helm4,
                wait=wait,
                create_namespace=True,
                namespace=namespace,
                timeout=f"{int(timeout_s)}s",
                # never disable_validation: pyhelm3 0.5.8 splits that flag into characters
            )
            meta = await revision.chart_metadata()
            resources = [r for r in await revision.resources() if r]
            return ReleaseStatus(
                name=release,
                namespace=namespace,
                revision=int(revision.revision),
                status=str(revision.status.value),
                chart=f"{meta.name}-{meta.version}",
                app_version=str(meta.app_version or ""),
                manifest=yaml.safe_dump_all(resources, sort_keys=False) if resources else "",
            )

        return self._call("upgrade --install", release, namespace, go, timeout_s)

    def uninstall(self, release: str, *, namespace: str, timeout_s: int) -> bool:
        """``helm uninstall --wait``; False (not an error) when the release does not exist."""
        from pyhelm3 import errors as pyhelm3_errors

        _check_name("release", release)
        _check_name("namespace", namespace)
        helm = self._helm()

        async def go() -> bool:
            try:
                await helm.uninstall(release, namespace=namespace, timeout=f"{int(timeout_s)}s", wait=True)
            except pyhelm3_errors.ReleaseNotFoundError:
                return False
            return True

        return self._call("uninstall", release, namespace, go, timeout_s)

    def status(self, release: str, *, namespace: str) -> ReleaseStatus | None:
        """The release's latest revision (``helm history --max 1``), or None if it does not exist."""
        from pyhelm3 import errors as pyhelm3_errors

        _check_name("release", release)
        _check_name("namespace", namespace)
        helm = self._helm()

        async def go() -> ReleaseStatus | None:
            try:
                history = list(await helm.history(release, max_revisions=1, namespace=namespace))
            except pyhelm3_errors.ReleaseNotFoundError:
                return None
            if not history:
                return None
            latest = max(history, key=lambda item: int(item["revision"]))
            return ReleaseStatus(
                name=release,
                namespace=namespace,
                revision=int(latest["revision"]),
                status=str(latest["status"]),
                chart=str(latest.get("chart") or ""),
                app_version=str(latest.get("app_version") or ""),
            )

        return self._call("status", release, namespace, go, 60)


def helm_client_for(env: Environment, kubeconfig: Path | None, kube_context: str | None) -> PyHelm3Client:
    """The Helm client for ``env``: ``kube_context`` if given, else the env's ``cluster.kube_context``
    (None: the kubeconfig's current context). ``kubeconfig`` None: helm's default ($KUBECONFIG,
    ~/.kube/config). Nothing runs until the first call."""
    return PyHelm3Client(
        find_helm(),
        kubeconfig=kubeconfig,
        kube_context=kube_context or env.config.cluster.kube_context,
    )
