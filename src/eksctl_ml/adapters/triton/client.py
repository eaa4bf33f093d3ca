"""The Triton adapter over ``tritonclient.http`` (KServe v2 REST), the implementation of :class:`TritonClient`.

* ``endpoint.url`` may carry a base path (``https://api-server/api/v1/namespaces/triton/services/triton:http/proxy``):
  tritonclient accepts ``host:port/base-path``; ``endpoint.headers`` go with every request (the bearer token of
  the Kubernetes API server's service proxy); ``https`` URLs verify against ``endpoint.ca_file`` (or the system
  store), or not at all with ``verify_tls=False``.
* Health probes and the metrics endpoint are plain GETs (urllib, same headers and TLS) so that the status code
  can be told apart: 200 is live/ready; Triton's own "no" (400), an API-server proxy "no endpoints" (503) or a
  404 is "not ready"; 401/403 and unreachable hosts raise.
* Every tritonclient, gevent and socket exception becomes :class:`~eksctl_ml.errors.TritonError` carrying the
  server's own message and a hint.

Not thread-safe: tritonclient's HTTP client runs on a per-thread gevent hub; use one client per thread, from
the thread that first used it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from eksctl_ml.adapters.triton.protocol import ModelState, Tensor, TritonEndpoint
from eksctl_ml.errors import TritonError

if TYPE_CHECKING:
    import tritonclient.http as triton_http

# Statuses of a health probe that mean "not ready (yet)" rather than "cannot ask".
_NOT_READY_STATUSES = frozenset({400, 404, 502, 503, 504})


class HttpTritonClient:
    """A running Triton server, spoken to over HTTP. See the module docstring for TLS, headers and errors."""

    def __init__(self, endpoint: TritonEndpoint) -> None:
        parts = urlsplit(endpoint.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TritonError(
                f"not a Triton URL: {endpoint.url!r}",
                hint="give http(s)://HOST:PORT[/base-path], e.g. http://localhost:8000",
            )
        self._endpoint = endpoint
        self._tls = parts.scheme == "https"
        self._base = endpoint.url.rstrip("/")
        # tritonclient wants host:port/base-path without the scheme; the port must be explicit
        port = parts.port or (443 if self._tls else 80)
        self._target = f"{parts.hostname}:{port}{parts.path.rstrip('/')}"
        self._client: triton_http.InferenceServerClient | None = None

    @property
    def endpoint(self) -> TritonEndpoint:
        return self._endpoint

    # --- plumbing -------------------------------------------------------------------------------

    def _http(self) -> triton_http.InferenceServerClient:
        if self._client is None:
            import tritonclient.http as triton_http

            with self._errors("connect"):
                self._client = triton_http.InferenceServerClient(
                    self._target,
                    connection_timeout=self._endpoint.timeout_s,
                    network_timeout=self._endpoint.timeout_s,
                    ssl=self._tls,
                    ssl_context_factory=self._gevent_ssl_context if self._tls else None,
                    insecure=self._tls and not self._endpoint.verify_tls,
                )
        return self._client

    def _gevent_ssl_context(self, cafile: str | None = None) -> Any:
        # gevent's own SSLContext: a stdlib one would block the gevent loop tritonclient runs on
        gevent_ssl = importlib.import_module("gevent.ssl")
        return _configure_tls(gevent_ssl.create_default_context(), self._endpoint)

    def _headers(self) -> dict[str, str] | None:
        return dict(self._endpoint.headers) or None

    def close(self) -> None:
        """Close the connection pool (the client reopens one on its next call)."""
        if self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):  # closing a broken pool must not hide the real error
                client.close()

    def __enter__(self) -> HttpTritonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _errors(self, action: str, model: str = "") -> Iterator[None]:
        """Turn whatever tritonclient, gevent or the socket raise into a TritonError with the server's words."""
        from tritonclient.utils import InferenceServerException

        # gevent.Timeout derives from BaseException (imported by name: gevent ships no type stubs)
        gevent_timeout: type[BaseException] = importlib.import_module("gevent").Timeout

        try:
            yield
        except InferenceServerException as exc:
            status = str(exc.status() or "")
            self.close()  # a failed request may leave a half-read response in the pool
            message = str(exc.message())
            body = exc.debug_details()
            if body and message.startswith("an exception occurred in the client while decoding"):
                # not Triton's JSON error: the API server's Status (401, 503 no endpoints...) or a proxy's page
                message = _message_of(str(body).strip()[:500])
            raise TritonError(
                f"Triton at {self._base}: {action} failed: {message}",
                detail=f"HTTP status {status}" if status else "",
                hint=_hint_for_status(status, model, self._base),
            ) from exc
        except gevent_timeout as exc:
            self.close()
            raise self._unreachable(action, f"no answer within {self._endpoint.timeout_s:g}s") from exc
        except (OSError, ValueError) as exc:
            # ConnectionRefusedError, TimeoutError, ssl.SSLError, DNS errors; geventhttpclient's parse errors
            self.close()
            raise self._unreachable(action, f"{type(exc).__name__}: {exc}") from exc

    def _unreachable(self, action: str, why: str, url: str = "") -> TritonError:
        return TritonError(
            f"Triton at {url or self._base}: {action} failed: cannot reach the server ({why})",
            hint=(
                "check the URL (Triton's HTTP port is 8000 by default, metrics 8002) and that the server runs; "
                "for an env: kubectl -n triton get pods,endpoints"
            ),
        )

    def _probe(self, path: str, action: str) -> bool:
        """GET a health endpoint: True on 200, False on a not-ready status, TritonError otherwise."""
        status, _body = self._get(f"{self._base}/{path}", action)
        if status == 200:
            return True
        if status in _NOT_READY_STATUSES:
            return False
        raise TritonError(
            f"Triton at {self._base}: {action} refused: HTTP {status}",
            hint=_hint_for_status(str(status), "", self._base),
        )

    def _get(self, url: str, action: str) -> tuple[int, bytes]:
        """A plain GET with the endpoint's headers and TLS; (status, body) for any HTTP answer."""
        request = urllib.request.Request(url, headers=dict(self._endpoint.headers))  # noqa: S310 - http(s) only
        context = _configure_tls(ssl.create_default_context(), self._endpoint) if url.startswith("https") else None
        try:
            with urllib.request.urlopen(request, timeout=self._endpoint.timeout_s, context=context) as response:  # noqa: S310
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as exc:
            return int(exc.code), bytes(exc.read() or b"")
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise self._unreachable(action, f"{type(reason).__name__}: {reason}", url) from exc

    # --- the contract -----------------------------------------------------------------------------

    def is_server_live(self) -> bool:
        return self._probe("v2/health/live", "liveness probe")

    def is_server_ready(self) -> bool:
        return self._probe("v2/health/ready", "readiness probe")

    def is_model_ready(self, model: str, version: str = "") -> bool:
        path = f"v2/models/{quote(model, safe='')}"
        if version:
            path += f"/versions/{quote(version, safe='')}"
        return self._probe(f"{path}/ready", f"readiness probe of model {model!r}")

    def model_metadata(self, model: str, version: str = "") -> Mapping[str, Any]:
        with self._errors(f"metadata of model {model!r}", model):
            result = self._http().get_model_metadata(model, version, headers=self._headers())
        return dict(result)

    def model_config(self, model: str, version: str = "") -> Mapping[str, Any]:
        with self._errors(f"configuration of model {model!r}", model):
            result = self._http().get_model_config(model, version, headers=self._headers())
        return dict(result)

    def repository_index(self) -> list[ModelState]:
        with self._errors("repository index"):
            entries = self._http().get_model_repository_index(headers=self._headers())
        return [
            ModelState(
                name=str(entry.get("name", "")),
                version=str(entry.get("version", "")),
                state=str(entry.get("state", "")),
                reason=str(entry.get("reason", "")).strip(),
            )
            for entry in entries
        ]

    def load_model(self, model: str) -> None:
        with self._errors(f"load of model {model!r}", model):
            self._http().load_model(model, headers=self._headers())

    def unload_model(self, model: str) -> None:
        with self._errors(f"unload of model {model!r}", model):
            self._http().unload_model(model, headers=self._headers())

    def infer(self, model: str, inputs: Sequence[Tensor], outputs: Sequence[str], version: str = "") -> list[Tensor]:
        import tritonclient.http as triton_http

        with self._errors(f"inference on model {model!r}", model):
            request_inputs = []
            for tensor in inputs:
                item = triton_http.InferInput(tensor.name, list(tensor.shape), tensor.datatype)
                item.set_data_from_numpy(tensor.data, binary_data=True)
                request_inputs.append(item)
            requested = [triton_http.InferRequestedOutput(name, binary_data=True) for name in outputs]
            result = self._http().infer(
                model, request_inputs, model_version=version, outputs=requested or None, headers=self._headers()
            )
            answered = []
            for name in outputs or [o["name"] for o in result.get_response().get("outputs", [])]:
                output = result.get_output(name)
                if output is None:
                    raise TritonError(f"Triton at {self._base}: inference on model {model!r}: no output {name!r}")
                answered.append(
                    Tensor(
                        name=name,
                        datatype=str(output["datatype"]),
                        shape=tuple(int(d) for d in output["shape"]),
                        data=result.as_numpy(name),
                    )
                )
        return answered

    def metrics_text(self) -> str:
        url = self._endpoint.metrics_url
        if not url:
            raise TritonError(
                f"no metrics endpoint is known for Triton at {self._base}",
                hint="give the metrics URL (port 8002, path /metrics), e.g. --metrics-url http://HOST:8002/metrics",
            )
        status, body = self._get(url, "metrics")
        if status != 200:
            text = body.decode("utf-8", "replace").strip()[:300]
            raise TritonError(
                f"Triton metrics at {url} answered HTTP {status}",
                detail=_message_of(text),
                hint=_hint_for_status(str(status), "", url),
            )
        return body.decode("utf-8", "replace")


def _configure_tls(context: Any, endpoint: TritonEndpoint) -> Any:
    """Verify against ``endpoint.ca_file`` (or the system store), or not at all when ``verify_tls`` is off."""
    if not endpoint.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif endpoint.ca_file:
        try:
            context.load_verify_locations(cafile=endpoint.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise TritonError(
                f"cannot read the CA bundle {endpoint.ca_file}: {exc}", hint="point ca_file at a PEM file"
            ) from exc
    return context


def _message_of(text: str) -> str:
    """The ``error``/``message`` of a JSON error body (Triton's or the API server's Status), else the text."""
    try:
        document = json.loads(text)
    except ValueError:
        return text
    if isinstance(document, dict):
        return str(document.get("error") or document.get("message") or text)
    return text


def _hint_for_status(status: str, model: str, where: str) -> str | None:
    if status in ("401", "403"):
        return (
            "the request was not authorised: through the Kubernetes API proxy the identity needs RBAC verb get on "
            "services/proxy in namespace triton; check the token"
        )
    if status == "404" and "/proxy" in where:
        return "the API server has no such Service: is the Triton release installed? kubectl -n triton get svc"
    if status == "503" and "/proxy" in where:
        return "the Triton Service has no ready pod: kubectl -n triton get pods"
    if model and status == "400":
        return f"check that model {model!r} is in the repository and loaded: GET /v2/repository/index lists them"
    return None
