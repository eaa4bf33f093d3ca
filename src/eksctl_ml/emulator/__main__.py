"""``python -m eksctl_ml.emulator --host 127.0.0.1 --port N``: run the patched emulator in the foreground."""

from __future__ import annotations

import argparse
import sys

from .errors import EmulatorError
from .server import serve


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve; return the process exit status (2 on a usage error)."""
    parser = argparse.ArgumentParser(
        prog="python -m eksctl_ml.emulator",
        description="mlplat's embedded AWS emulator: moto server with EKS gaps patched, on loopback only.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    args = parser.parse_args(argv)
    try:
        serve(args.host, args.port)
    except EmulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
