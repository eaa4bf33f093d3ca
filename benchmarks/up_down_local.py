"""mlplat's overhead over plain Terraform: `mlplat up` + `mlplat down --env local` against a sequential
`terraform init/apply` then reverse `destroy` loop over the same stacks, inputs and emulator.

Both runs use one embedded AWS emulator; mlplat goes first, then the plain loop (with its own state keys).
Prints per-phase wall times and the ratio. Target: ratio <= 1.10.

Run: python benchmarks/up_down_local.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from eksctl_ml.adapters import Adapters  # noqa: E402
from eksctl_ml.adapters.terraform.cliconfig import cli_config_text, find_provider_mirror  # noqa: E402
from eksctl_ml.config.loader import load_env  # noqa: E402
from eksctl_ml.engine.phase import PhaseContext  # noqa: E402
from eksctl_ml.phases.kubernetes import CompositePhase  # noqa: E402
from eksctl_ml.phases.registry import provision_order  # noqa: E402
from eksctl_ml.phases.terraform import TerraformPhase, backend_config, terraform_root  # noqa: E402

CREDS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def timed(argv: list[str], env: dict[str, str], cwd: Path = REPO) -> float:
    began = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - began


def mlplat_run(state: Path, endpoint: str) -> dict[str, float]:
    env = {**os.environ, "MLPLAT_STATE_DIR": str(state), "MLPLAT_AWS_ENDPOINT": endpoint, "NO_COLOR": "1"}
    times: dict[str, float] = {}
    for command in ("up", "down"):
        began = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "eksctl_ml", command, "--env", "local", "--yes", "-o", "json"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        times[f"mlplat {command} (total)"] = time.perf_counter() - began
        if proc.returncode != 0:
            raise SystemExit(f"mlplat {command} failed:\n{proc.stderr[-3000:]}")
        for line in proc.stdout.splitlines():
            event = json.loads(line)
            if event["event"] == "phase_finished" and event.get("duration_s") is not None:
                times[f"  {command} {event['phase']}"] = event["duration_s"]
    return times


def plain_terraform_run(work: Path, endpoint: str) -> dict[str, float]:
    env_obj = load_env("local", REPO / "envs")
    mirror = find_provider_mirror()
    tf_env = {
        **os.environ,
        **CREDS,
        "AWS_ENDPOINT_URL": endpoint,
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
    }
    if mirror:
        (work / "terraformrc").write_text(cli_config_text(mirror))
        tf_env["TF_CLI_CONFIG_FILE"] = str(work / "terraformrc")
    parts = [q for p in provision_order(env_obj) for q in (p.parts if isinstance(p, CompositePhase) else [p])]
    phases = [p for p in parts if isinstance(p, TerraformPhase)]
    assert [p.name for p in phases] == ["network", "iam", "cluster", "nodegroups", "storage"], phases
    outputs: dict[str, dict[str, Any]] = {}
    times: dict[str, float] = {}
    var_files: dict[str, Path] = {}
    began_all = time.perf_counter()
    for phase in phases:
        ctx = PhaseContext(env=env_obj, workdir=work, adapters=Adapters(), outputs=outputs)
        var_files[phase.name] = work / f"{phase.name}.tfvars.json"
        var_files[phase.name].write_text(json.dumps(phase.variables(ctx)))
        data_env = {**tf_env, "TF_DATA_DIR": str(work / phase.name / ".terraform")}
        chdir = f"-chdir={terraform_root() / 'stacks' / phase.stack}"
        backend = {**backend_config(env_obj, phase.stack), "key": f"plain/{phase.stack}.tfstate"}
        began = time.perf_counter()
        timed(
            ["terraform", chdir, "init", "-input=false", *[f"-backend-config={k}={v}" for k, v in backend.items()]],
            data_env,
        )
        timed(
            ["terraform", chdir, "apply", "-auto-approve", "-input=false", f"-var-file={var_files[phase.name]}"],
            data_env,
        )
        out = subprocess.run(
            ["terraform", chdir, "output", "-json"], env=data_env, capture_output=True, text=True, check=True
        )
        outputs[phase.name] = {k: v["value"] for k, v in json.loads(out.stdout).items()}
        times[f"  apply {phase.name}"] = time.perf_counter() - began
    times["terraform apply loop (total)"] = time.perf_counter() - began_all
    began_all = time.perf_counter()
    for phase in reversed(phases):
        data_env = {**tf_env, "TF_DATA_DIR": str(work / phase.name / ".terraform")}
        chdir = f"-chdir={terraform_root() / 'stacks' / phase.stack}"
        times[f"  destroy {phase.name}"] = timed(
            ["terraform", chdir, "destroy", "-auto-approve", "-input=false", f"-var-file={var_files[phase.name]}"],
            data_env,
        )
    times["terraform destroy loop (total)"] = time.perf_counter() - began_all
    return times


def main() -> None:
    from eksctl_ml.emulator import EmbeddedEmulator

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        emulator = EmbeddedEmulator(root / "emulator")
        endpoint = emulator.start()
        try:
            ours = mlplat_run(root / "state", endpoint)
            (root / "plain").mkdir()
            plain = plain_terraform_run(root / "plain", endpoint)
        finally:
            emulator.stop()
    for name, seconds in {**ours, **plain}.items():
        print(f"{name:<40} {seconds:7.1f} s")
    mlplat_total = ours["mlplat up (total)"] + ours["mlplat down (total)"]
    plain_total = plain["terraform apply loop (total)"] + plain["terraform destroy loop (total)"]
    ratio = mlplat_total / plain_total
    print(
        f"mlplat up+down {mlplat_total:.1f} s vs terraform loop {plain_total:.1f} s: ratio {ratio:.2f} "
        f"({'meets' if ratio <= 1.10 else 'MISSES'} the 1.10 target)"
    )


if __name__ == "__main__":
    main()
