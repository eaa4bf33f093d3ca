"""CliTerraformRunner: the TerraformRunner that drives the ``terraform`` CLI directly.

Why not a wrapper library: python-terraform (and its forks) pass removed flags (``destroy -force``),
mishandle ``-detailed-exitcode`` and cannot stream ``-json`` events (see shared/TOOLING.md). This
module builds argv lists itself (never a shell) and reads Terraform's machine-readable UI.

Layout of one stack's files::

    <stack.source>/                 the root module in the repository; never written to (see below)
    <stack.workdir>/.terraform/     TF_DATA_DIR: backend config, provider links, modules
    <stack.workdir>/terraformrc     CLI config (only with a provider mirror)
    <stack.workdir>/<name>.tfplan   the saved plan (mode 0600: plans hold secret values)
    <stack.workdir>/.mlplat-init.json  what the last successful init was done for (skip / -reconfigure)

Dependency lock file: when ``<source>/.terraform.lock.hcl`` exists (commit it with the stack),
``init`` runs with ``-lockfile=readonly``, so nothing is ever written into the repository. A stack
without one gets it created by Terraform (a warning says to commit it).

Every command gets ``TF_IN_AUTOMATION=1``, ``TF_INPUT=0``, ``CHECKPOINT_DISABLE=1`` and the stack's
``TF_DATA_DIR``; ``TF_CLI_ARGS*`` from the caller's environment are dropped (they would change the
flags this module relies on). argv and every raw JSON event line are logged at DEBUG to
``eksctl_ml.terraform`` (redacted; environment values and output values never).

Ctrl-C: see :mod:`eksctl_ml.adapters.terraform.process` (one SIGINT to terraform, a grace period for
it to save its state, then SIGKILL; KeyboardInterrupt is re-raised).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eksctl_ml.adapters.terraform.cliconfig import cli_config_text, find_provider_mirror, write_if_changed
from eksctl_ml.adapters.terraform.events import (
    ChangeCounts,
    Diagnostic,
    StateLockHeldError,
    change_counts,
    describe_event,
    error_from_diagnostics,
    force_unlock_command,
    is_missing_state_bucket,
    parse_event,
    planned_change_line,
)
from eksctl_ml.adapters.terraform.process import ProcessResult, logger, run_process
from eksctl_ml.adapters.terraform.protocol import OutputValue, PlanSummary, ProgressCallback, Stack
from eksctl_ml.errors import TerraformError
from eksctl_ml.redact import redact

__all__ = ["CliTerraformRunner", "StateLockHeldError", "find_provider_mirror"]

LOCK_FILE = ".terraform.lock.hcl"
_STAMP = ".mlplat-init.json"
_CLI_CONFIG = "terraformrc"
_TF_SOURCE_SUFFIXES = (".tf", ".tf.json")
# variables of the caller's environment that are not secret and that a hand-typed command may need
_SHAREABLE_ENV = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION")


class _EventSink:
    """Consumes ``-json`` lines: logs them, forwards progress lines, keeps what results need."""

    def __init__(self, label: str, progress: ProgressCallback | None) -> None:
        self.label = label
        self.progress = progress
        self.diagnostics: list[Diagnostic] = []
        self.counts: ChangeCounts | None = None
        self.planned: list[str] = []
        self.text: list[str] = []

    def __call__(self, line: str) -> None:
        logger.debug("%s: %s", self.label, redact(line))
        event = parse_event(line)
        if event is None:
            if line.strip():
                self.text.append(line)
            return
        kind = event.get("type")
        if kind == "diagnostic":
            diagnostic = Diagnostic.from_event(event)
            if diagnostic is not None:
                self.diagnostics.append(diagnostic)
                if not diagnostic.is_error:
                    logger.warning("terraform %s: %s", self.label, redact(diagnostic.render()))
        elif kind == "change_summary":
            self.counts = change_counts(event) or self.counts
        elif kind == "planned_change":
            planned = planned_change_line(event)
            if planned:
                self.planned.append(planned)
        message = describe_event(event)
        if message and self.progress is not None:
            self.progress(message)


class _Capture:
    """Keeps stdout verbatim (``output -json``, ``state pull``: values may be secret, so no logging)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class CliTerraformRunner:
    """Drives ``terraform`` (>= 1.10) for one stack at a time; implements TerraformRunner.

    ``binary``: the terraform executable (name on PATH or a path).
    ``env``: variables added to this process's environment for every command (AWS endpoint, profile,
    credentials...). The runner always sets TF_IN_AUTOMATION, TF_INPUT, CHECKPOINT_DISABLE, TF_DATA_DIR.
    ``provider_mirror``: folder containing ``registry.terraform.io/...``; providers are installed only
    from there. None: discovered with :func:`find_provider_mirror` (``$MLPLAT_TF_PROVIDER_MIRROR``, then
    well-known folders) unless ``discover_mirror`` is False; when none is found Terraform's own CLI
    configuration applies.
    ``timeout_s``: the longest one terraform command may run before it is stopped (TerraformError).
    ``interrupt_grace_s``: how long terraform gets to save its state after Ctrl-C / a timeout.
    ``lock_timeout_s``: how long plan/apply/destroy wait for a held state lock (0: fail at once with
    StateLockHeldError).
    ``plugin_cache_dir``: TF_PLUGIN_CACHE_DIR for online installs. Ignored with a mirror: ``init`` then
    links providers straight from the mirror (about 1 s), and a cache would only add a 700 MB copy.

    Failures are TerraformError (message = Terraform's summary, ``detail``, ``address``); a held state
    lock is StateLockHeldError (a LockHeldError). Call it from the main thread (Ctrl-C contract).
    """

    def __init__(
        self,
        binary: str = "terraform",
        env: Mapping[str, str] | None = None,
        provider_mirror: Path | None = None,
        timeout_s: float = 3600,
        *,
        discover_mirror: bool = True,
        interrupt_grace_s: float = 60,
        lock_timeout_s: float = 0,
        plugin_cache_dir: Path | None = None,
    ) -> None:
        self.binary = binary
        self.env: dict[str, str] = dict(env or {})
        if provider_mirror is None and discover_mirror:
            provider_mirror = find_provider_mirror({**os.environ, **self.env})
        self.provider_mirror = Path(provider_mirror).expanduser().resolve() if provider_mirror else None
        self.timeout_s = float(timeout_s)
        self.interrupt_grace_s = float(interrupt_grace_s)
        self.lock_timeout_s = float(lock_timeout_s)
        self.plugin_cache_dir = Path(plugin_cache_dir).expanduser().resolve() if plugin_cache_dir else None
        self._version: str | None = None

    # --- paths and environment -------------------------------------------------------------------

    @staticmethod
    def workdir(stack: Stack) -> Path:
        """The stack's absolute workdir, created (mode 0700: plan files hold secrets) if missing."""
        workdir = stack.workdir.expanduser().resolve()
        workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return workdir

    @staticmethod
    def data_dir(stack: Stack) -> Path:
        return stack.workdir.expanduser().resolve() / ".terraform"

    @staticmethod
    def source(stack: Stack) -> Path:
        source = stack.source.expanduser().resolve()
        if not source.is_dir():
            raise TerraformError(
                f"stack {stack.name!r}: its Terraform folder {source} does not exist",
                hint="run mlplat from a checkout of the repository (or a release that bundles terraform/)",
            )
        return source

    def _environment(self, stack: Stack | None) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("TF_CLI_ARGS")}
        env.update({key: value for key, value in self.env.items() if not key.startswith("TF_CLI_ARGS")})
        env.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"})
        if stack is not None:
            workdir = self.workdir(stack)
            env["TF_DATA_DIR"] = str(workdir / ".terraform")
            if self.provider_mirror is not None:
                config = workdir / _CLI_CONFIG
                write_if_changed(config, cli_config_text(self.provider_mirror))
                env["TF_CLI_CONFIG_FILE"] = str(config)
        if self.provider_mirror is None and self.plugin_cache_dir is not None:
            self.plugin_cache_dir.mkdir(parents=True, exist_ok=True)
            env["TF_PLUGIN_CACHE_DIR"] = str(self.plugin_cache_dir)
        return env

    def _argv(self, stack: Stack, *args: str) -> list[str]:
        return [self.binary, f"-chdir={self.source(stack)}", *args]

    def _lock_args(self) -> list[str]:
        return [f"-lock-timeout={self.lock_timeout_s:g}s"] if self.lock_timeout_s > 0 else []

    def _run(
        self, stack: Stack | None, argv: Sequence[str], label: str, sink: Any, progress: ProgressCallback | None
    ) -> ProcessResult:
        return run_process(
            argv,
            env=self._environment(stack),
            on_line=sink,
            timeout_s=self.timeout_s,
            interrupt_grace_s=self.interrupt_grace_s,
            label=label,
            on_interrupt=progress,
        )

    def unlock_command(self, stack: Stack, lock_id: str) -> str:
        """The shell command that force-unlocks the stack's state (also given in StateLockHeldError's hint)."""
        shared = {key: self.env[key] for key in _SHAREABLE_ENV if key in self.env}
        return force_unlock_command(self.binary, self.source(stack), self.data_dir(stack), lock_id, shared)

    def _error(
        self, stack: Stack, command: str, result: ProcessResult, sink: _EventSink | None
    ) -> TerraformError | StateLockHeldError:
        diagnostics = sink.diagnostics if sink is not None else []
        text = "\n".join([*(sink.text if sink is not None else []), result.stderr])
        return error_from_diagnostics(
            diagnostics,
            command=command,
            stack=stack.name,
            returncode=result.returncode,
            fallback_text=redact(text),
            unlock_command=lambda lock_id: self.unlock_command(stack, lock_id),
        )

    @staticmethod
    def _var_file(var_file: Path) -> Path:
        path = var_file.expanduser().resolve()
        if not path.is_file():
            raise TerraformError(f"variables file {path} does not exist", hint="the phase writes it before planning")
        return path

    # --- TerraformRunner ---------------------------------------------------------------------------

    def version(self) -> str:
        """The terraform version (``terraform version -json``), e.g. ``1.11.4``."""
        if self._version is None:
            capture = _Capture()
            result = run_process(
                [self.binary, "version", "-json"],
                env=self._environment(None),
                on_line=capture,
                timeout_s=min(self.timeout_s, 60),
                interrupt_grace_s=self.interrupt_grace_s,
                label="version",
            )
            try:
                version = json.loads(capture.text)["terraform_version"] if result.returncode == 0 else None
            except (ValueError, KeyError, TypeError):
                version = None
            if not isinstance(version, str):
                raise TerraformError(
                    f"`{self.binary} version -json` failed (exit {result.returncode})",
                    detail=f"{capture.text}\n{result.stderr}".strip(),
                    hint="install Terraform >= 1.10",
                )
            self._version = version
        return self._version

    def init(self, stack: Stack) -> None:
        """``terraform init`` with the stack's backend config; a no-op when nothing changed since the last one.

        ``-reconfigure`` is added only when the backend config differs from the last successful init
        (or that is unknown while a data dir exists). ``-lockfile=readonly`` when the stack has a lock file.
        """
        source = self.source(stack)
        workdir = self.workdir(stack)
        data_dir = workdir / ".terraform"
        backend_hash = _sha256(json.dumps(sorted(stack.backend_config.items())).encode())
        stamp = self._read_stamp(workdir)
        initialised = (data_dir / "terraform.tfstate").is_file()
        if (
            initialised
            and stamp.get("backend") == backend_hash
            and stamp.get("fingerprint") == self._fingerprint(source, data_dir)
        ):
            logger.debug("init %s: already initialised, nothing changed", stack.name)
            return
        args = ["init", "-json", "-input=false", "-no-color"]
        if (source / LOCK_FILE).is_file():
            args.append("-lockfile=readonly")
        else:
            logger.warning("stack %s has no %s: terraform creates one in %s; commit it", stack.name, LOCK_FILE, source)
        if initialised and stamp.get("backend") != backend_hash:
            args.append("-reconfigure")
        args.extend(f"-backend-config={key}={value}" for key, value in sorted(stack.backend_config.items()))
        (workdir / _STAMP).unlink(missing_ok=True)
        sink = _EventSink("init", None)
        result = self._run(stack, self._argv(stack, *args), "init", sink, None)
        if result.returncode != 0:
            raise self._error(stack, "init", result, sink)
        write_if_changed(
            workdir / _STAMP,
            json.dumps({"backend": backend_hash, "fingerprint": self._fingerprint(source, data_dir)}),
        )

    def plan(
        self, stack: Stack, var_file: Path, *, destroy: bool = False, progress: ProgressCallback | None = None
    ) -> PlanSummary:
        """``plan -detailed-exitcode`` into ``<workdir>/<name>.tfplan`` (initialising first if needed).

        progress gets one line per planned resource change (``aws_vpc.this: will be created``).
        """
        var_path = self._var_file(var_file)
        self.init(stack)
        plan_file = self.workdir(stack) / f"{stack.name}.tfplan"
        plan_file.unlink(missing_ok=True)  # never leave an older plan where apply could pick it up
        args = ["plan", "-json", "-input=false", "-detailed-exitcode", f"-out={plan_file}", f"-var-file={var_path}"]
        args += self._lock_args()
        if destroy:
            args.append("-destroy")
        sink = _EventSink("plan", progress)
        result = self._run(stack, self._argv(stack, *args), "plan", sink, progress)
        if result.returncode not in (0, 2):
            raise self._error(stack, "plan", result, sink)
        if plan_file.exists():
            plan_file.chmod(0o600)
        counts = sink.counts or ChangeCounts()
        return PlanSummary(
            has_changes=result.returncode == 2,
            add=counts.add,
            change=counts.change,
            remove=counts.remove,
            plan_file=plan_file,
            resource_changes=tuple(sink.planned),
        )

    def apply(self, stack: Stack, plan: PlanSummary, *, progress: ProgressCallback | None = None) -> None:
        """Apply the saved plan (``apply -json <planfile>``), one progress line per resource event.

        A plan without changes is not applied (nothing would change). The plan file is deleted after
        a successful apply: it holds secret values and is stale from then on.
        """
        if plan.plan_file is None:
            raise TerraformError(f"stack {stack.name!r}: apply needs a saved plan", hint="plan first")
        plan_file = plan.plan_file.expanduser().resolve()
        if not plan.has_changes:
            logger.debug("apply %s: the plan has no changes; nothing to apply", stack.name)
            plan_file.unlink(missing_ok=True)
            return
        if not plan_file.is_file():
            raise TerraformError(f"stack {stack.name!r}: the plan file {plan_file} is gone", hint="plan again")
        args = ["apply", "-json", "-input=false", *self._lock_args(), str(plan_file)]
        sink = _EventSink("apply", progress)
        result = self._run(stack, self._argv(stack, *args), "apply", sink, progress)
        if result.returncode != 0:
            raise self._error(stack, "apply", result, sink)
        plan_file.unlink(missing_ok=True)

    def output(self, stack: Stack) -> dict[str, OutputValue]:
        """``output -json`` as name -> OutputValue. A stack without state (or state bucket) has none."""
        try:
            self.init(stack)
        except TerraformError as exc:
            if is_missing_state_bucket(exc):
                return {}
            raise
        capture = _Capture()
        result = self._run(stack, self._argv(stack, "output", "-json", "-no-color"), "output", capture, None)
        if result.returncode != 0:
            raise self._error(stack, "output", result, None)
        try:
            raw = json.loads(capture.text or "{}")
        except ValueError as exc:
            raise TerraformError(f"stack {stack.name!r}: `terraform output -json` printed invalid JSON") from exc
        if not isinstance(raw, dict):
            raise TerraformError(f"stack {stack.name!r}: `terraform output -json` did not print an object")
        outputs = {
            str(name): OutputValue(value=item.get("value"), sensitive=bool(item.get("sensitive", False)))
            for name, item in raw.items()
            if isinstance(item, dict)
        }
        logger.debug("output %s: %s", stack.name, sorted(outputs))
        return outputs

    def destroy(self, stack: Stack, var_file: Path, *, progress: ProgressCallback | None = None) -> None:
        """Destroy everything in the stack's state (``apply -destroy -auto-approve``); idempotent.

        Success without running a destroy when the state bucket does not exist or the state holds no
        managed resource (never initialised, or already destroyed).
        """
        try:
            self.init(stack)
        except TerraformError as exc:
            if is_missing_state_bucket(exc):
                logger.info("destroy %s: the state bucket does not exist; nothing to destroy", stack.name)
                return
            raise
        if self._state_is_empty(stack):
            logger.info("destroy %s: the state holds no resources; nothing to destroy", stack.name)
            return
        var_path = self._var_file(var_file)
        args = ["apply", "-destroy", "-json", "-auto-approve", "-input=false", *self._lock_args()]
        args.append(f"-var-file={var_path}")
        sink = _EventSink("destroy", progress)
        result = self._run(stack, self._argv(stack, *args), "destroy", sink, progress)
        if result.returncode != 0:
            raise self._error(stack, "destroy", result, sink)

    def import_resource(
        self, stack: Stack, var_file: Path, address: str, import_id: str, *, progress: ProgressCallback | None = None
    ) -> None:
        """``terraform import <address> <import_id>`` with the stack's variables.

        ``import`` has no ``-json`` mode: its failure is a TerraformError whose detail is its text output.
        """
        var_path = self._var_file(var_file)
        self.init(stack)
        args = ["import", "-input=false", "-no-color", *self._lock_args(), f"-var-file={var_path}", address, import_id]
        capture = _Capture()
        result = self._run(stack, self._argv(stack, *args), "import", capture, progress)
        if result.returncode != 0:
            text = redact(f"{capture.text}\n{result.stderr}")
            raise TerraformError(
                f"stack {stack.name!r}: terraform could not import {import_id!r} as {address}",
                detail=text.strip(),
                address=address,
            )

    # --- extras --------------------------------------------------------------------------------------

    def force_unlock(self, stack: Stack, lock_id: str) -> None:
        """Release a state lock whose holder is known to be dead (``force-unlock -force <ID>``)."""
        self.init(stack)
        sink = _EventSink("force-unlock", None)
        argv = self._argv(stack, "force-unlock", "-force", lock_id)
        result = self._run(stack, argv, "force-unlock", sink, None)
        if result.returncode != 0:
            raise self._error(stack, "force-unlock", result, sink)

    def _state_is_empty(self, stack: Stack) -> bool:
        capture = _Capture()
        result = self._run(stack, self._argv(stack, "state", "pull"), "state pull", capture, None)
        if result.returncode != 0:
            logger.debug("state pull %s failed (exit %d); destroying anyway", stack.name, result.returncode)
            return False
        if not capture.text.strip():
            return True
        try:
            state = json.loads(capture.text)
        except ValueError:
            return False
        resources = state.get("resources") if isinstance(state, dict) else None
        if not isinstance(resources, list):
            return False
        return not any(
            isinstance(resource, dict) and resource.get("mode") == "managed" and resource.get("instances")
            for resource in resources
        )

    @staticmethod
    def _read_stamp(workdir: Path) -> dict[str, Any]:
        try:
            stamp = json.loads((workdir / _STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return stamp if isinstance(stamp, dict) else {}

    def _fingerprint(self, source: Path, data_dir: Path) -> str:
        """What init depends on: terraform itself, the mirror, the stack's and its local modules' files."""
        binary = shutil.which(self.binary) or self.binary
        try:
            stat = Path(binary).stat()
            binary_id = f"{binary}:{stat.st_size}:{stat.st_mtime_ns}"
        except OSError:
            binary_id = binary
        parts = [binary_id.encode(), str(self.provider_mirror).encode()]
        module_dirs = [source]
        modules_json = data_dir / "modules" / "modules.json"
        try:
            manifest = json.loads(modules_json.read_text(encoding="utf-8"))
            parts.append(modules_json.read_bytes())
            for module in manifest.get("Modules", []):
                directory = module.get("Dir") if isinstance(module, dict) else None
                if isinstance(directory, str) and directory:
                    module_dirs.append((source / directory).resolve())
        except (OSError, ValueError, AttributeError):
            pass
        for directory in sorted(set(module_dirs)):
            try:
                files = sorted(
                    path
                    for path in directory.iterdir()
                    if path.is_file() and (path.name.endswith(_TF_SOURCE_SUFFIXES) or path.name == LOCK_FILE)
                )
            except OSError:
                continue
            for path in files:
                parts.extend([str(path).encode(), path.read_bytes()])
        return _sha256(*parts)
