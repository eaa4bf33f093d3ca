"""CLI startup time: median wall time of `mlplat --help` and `mlplat status --env local --offline`
(journal only) against `python -c pass`, each in a fresh interpreter. Target: --help <= 0.3 s.

Run: python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_HELP_S = 0.3


def median_wall(argv: list[str], runs: int, cwd: Path, env: dict[str, str]) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        env = {**os.environ, "MLPLAT_STATE_DIR": state, "NO_COLOR": "1"}
        cli = [sys.executable, "-m", "eksctl_ml"]
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "mlplat --help": [*cli, "--help"],
            "mlplat status --env local --offline": [*cli, "status", "--env", "local", "--offline"],
        }
        results = {name: median_wall(argv, args.runs, REPO, env) for name, argv in cases.items()}
    baseline = results["python -c pass"]
    print(f"median of {args.runs} runs each (python {sys.version.split()[0]}, {os.cpu_count()} cpus)")
    for name, seconds in results.items():
        print(f"  {name:<40} {seconds * 1000:7.1f} ms   x{seconds / baseline:5.1f} of bare python")
    verdict = "meets" if results["mlplat --help"] <= TARGET_HELP_S else "MISSES"
    print(f"--help {verdict} the {TARGET_HELP_S:.1f} s target ({results['mlplat --help']:.3f} s)")


if __name__ == "__main__":
    main()
