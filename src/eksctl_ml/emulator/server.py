"""The patched moto server, served in the foreground on a loopback address.

``python -m eksctl_ml.emulator --host 127.0.0.1 --port N`` lands in :func:`serve`: it pins the
moto version, turns on AWS-managed IAM policies, applies :mod:`eksctl_ml.emulator.patches`, and
serves moto's multi-service WSGI app with Werkzeug until SIGTERM/SIGINT.

Besides moto's own ``/moto-api/`` (dashboard, ``POST /moto-api/reset``), the server answers
``GET /_mlplat/health`` with a JSON document (:data:`HEALTH_PATH`) identifying this emulator:
its pid, moto version and patches. S3 bucket names cannot start with ``_``, so the path never
shadows a path-style S3 request.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socketserver
import sys
import time
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from .compat import ensure_supported_moto
from .errors import EmulatorError

HEALTH_PATH = "/_mlplat/health"
"""Path of the emulator's health document."""

SERVICE_NAME = "mlplat-embedded-aws-emulator"
"""The ``service`` field of the health document."""

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HealthMiddleware:
    """WSGI middleware answering :data:`HEALTH_PATH` and passing everything else to moto."""

    def __init__(self, app: WSGIApp, document: dict[str, Any]) -> None:
        self._app = app
        self._body = json.dumps(document, sort_keys=True).encode()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in {"GET", "HEAD"}:
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(self._body)))],
            )
            return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [self._body]
        return self._app(environ, start_response)


def build_app() -> WSGIApp:
    """moto's WSGI application with the patches applied, wrapped in :class:`HealthMiddleware`.

    Raises :class:`EmulatorError` when the installed moto is not the pinned version.
    """
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    moto_version = ensure_supported_moto()

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from .patches import apply_all

    patches = apply_all()
    app: WSGIApp = DomainDispatcherApplication(create_backend_app)
    return HealthMiddleware(
        app,
        {
            "service": SERVICE_NAME,
            "pid": os.getpid(),
            "moto_version": moto_version,
            "patches": list(patches),
        },
    )


def _not_ready(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """Placeholder app while moto loads (never serves: requests wait for serve_forever)."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve(host: str, port: int) -> None:
    """Serve the patched emulator on ``host:port`` until SIGTERM or SIGINT.

    Only loopback addresses are accepted: the emulator has no authentication and accepts any
    credentials, so it must never listen on a reachable interface.
    """
    if not is_loopback(host):
        raise EmulatorError(
            f"refusing to serve the emulator on {host!r}: only loopback addresses are allowed",
            hint="use --host 127.0.0.1",
        )
    if not 0 < port < 65536:
        raise EmulatorError(f"invalid port {port}", hint="use a port between 1 and 65535")
    from werkzeug.serving import make_server

    # Bind before importing moto (seconds): a taken port fails fast, and the launcher retries.
    try:
        server = make_server(host, port, _not_ready, threaded=True)
    except OSError as exc:
        raise EmulatorError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    except SystemExit as exc:  # werkzeug reports a port in use on stderr and exits
        raise EmulatorError(f"cannot listen on {host}:{port}: the port is in use") from exc
    server.app = build_app()

    from moto.moto_server.werkzeug_app import MotoRequestHandler

    # As make_server does for a threaded server: HTTP/1.1 keep-alive (moto_server serves the same way).
    if "protocol_version" not in vars(MotoRequestHandler):
        MotoRequestHandler.protocol_version = "HTTP/1.1"
    server.RequestHandlerClass = MotoRequestHandler
    # Exit at once on SIGTERM: do not wait for idle keep-alive connections of SDK clients.
    if isinstance(server, socketserver.ThreadingMixIn):
        server.block_on_close = False
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(f"{started} {SERVICE_NAME} pid {os.getpid()} listening on http://{host}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        print(f"{SERVICE_NAME} pid {os.getpid()} stopped", file=sys.stderr, flush=True)
