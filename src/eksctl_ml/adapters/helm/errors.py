"""Helm failures, told apart by what helm wrote to stderr.

pyhelm3 only recognises a few failures (and reports "connection refused" as a generic error), so the
adapter classifies helm's own words here. Every class is a :class:`~eksctl_ml.errors.HelmError`: code
that only cares that Helm failed catches that; code that can act on the kind (retry an unreachable
cluster, explain a stuck release) catches the subclass. ``detail`` always carries helm's stderr.
"""

from __future__ import annotations

import re

from eksctl_ml.errors import HelmError


class HelmExecutableError(HelmError):
    """The helm binary is missing or does not run."""

    reason = "executable"


class HelmUnreachableError(HelmError):
    """The Kubernetes API could not be reached (connection refused, DNS, network, TLS)."""

    reason = "unreachable"


class HelmTimeoutError(HelmError):
    """Helm (or mlplat waiting on helm) ran out of time; with --atomic the change was rolled back."""

    reason = "timeout"


class HelmOperationInProgressError(HelmError):
    """Another install/upgrade/rollback holds the release (often one that was interrupted)."""

    reason = "operation-in-progress"


class HelmChartNotFoundError(HelmError):
    """The chart, its repository or the pinned version does not exist."""

    reason = "chart-not-found"


class HelmRenderError(HelmError):
    """The chart failed to render with the given values (a `required`/`fail`, bad YAML, schema)."""

    reason = "render"


class HelmAuthError(HelmError):
    """The Kubernetes API refused the credentials (401/403)."""

    reason = "auth"


_IN_PROGRESS = re.compile(r"another operation \(install/upgrade/rollback\) is in progress")
_REFUSED = re.compile(r"connection refused")
_UNREACHABLE = re.compile(
    r"kubernetes cluster unreachable|could not get server version|no such host|network is unreachable|"
    r"no route to host|i/o timeout|operation timed out|tls handshake timeout|server misbehaving|"
    r"unable to connect to the server"
)
_TIMEOUT = re.compile(r"timed out waiting for the condition|context deadline exceeded|timed out")
_AUTH = re.compile(r"unauthorized|provide credentials|forbidden|getting credentials")
_CHART = re.compile(
    r"chart \"[^\"]+\" (version \"[^\"]+\" )?not found|no chart version found|no chart name found|"
    r"failed to fetch|looks like \"[^\"]+\" is not a valid chart repository|path \"[^\"]+\" not found|"
    r"is not a valid chart|not a valid chart"
)
_RENDER = re.compile(
    r"execution error|failed to render|parse error|values don't meet the specifications|"
    r"unable to build kubernetes objects|error converting yaml|error validating data"
)


def _first_line(stderr: str) -> str:
    for line in stderr.splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("Error: ")
    return ""


def classify(stderr: str, *, action: str, release: str, namespace: str, context: str = "") -> HelmError:
    """The HelmError for a failed ``helm <action>`` of ``release``, from helm's stderr.

    ``context`` names the kube context (or kubeconfig) for the hint. Order matters: an "in progress"
    message can mention a timeout, and "connection refused" appears inside "cluster unreachable".
    """
    text = stderr.lower()
    where = f" via {context}" if context else ""
    subject = f"helm {action} {release} (namespace {namespace})" if release else f"helm {action}"
    detail = stderr.strip()
    summary = _first_line(stderr)
    if _IN_PROGRESS.search(text):
        return HelmOperationInProgressError(
            f"{subject}: another Helm operation is in progress on this release",
            detail=detail,
            hint=(
                f"an earlier install/upgrade was interrupted or is still running. Inspect it with "
                f"`helm history {release} -n {namespace}`; if nothing is running, roll back with "
                f"`helm rollback {release} -n {namespace}` (or uninstall a release stuck in pending-install) "
                "and rerun"
            ),
        )
    if _REFUSED.search(text):
        return HelmUnreachableError(
            f"{subject}: cannot reach the Kubernetes API{where}: connection refused",
            detail=detail,
            hint="is the cluster running, and does the kube context point at its API server? "
            "Try `kubectl get --raw /version` with the same context",
        )
    if _UNREACHABLE.search(text):
        return HelmUnreachableError(
            f"{subject}: the Kubernetes cluster is unreachable{where}",
            detail=detail,
            hint="check network access to the API endpoint (VPN, endpoint_public_access/public_access_cidrs) "
            "and that the kubeconfig is current (`aws eks update-kubeconfig`)",
        )
    if _AUTH.search(text):
        return HelmAuthError(
            f"{subject}: the Kubernetes API refused the credentials{where}",
            detail=detail,
            hint="refresh the kubeconfig/credentials and check this identity has an EKS access entry",
        )
    if _CHART.search(text):
        return HelmChartNotFoundError(
            f"{subject}: chart not found: {summary}",
            detail=detail,
            hint="check the chart's repo URL, name and pinned version in helm-values/catalog.yaml "
            "(and network access to the chart repository)",
        )
    if _RENDER.search(text):
        return HelmRenderError(
            f"{subject}: the chart did not render: {summary}",
            detail=detail,
            hint=f"check the values in helm-values/{release}/ against the chart's values",
        )
    if _TIMEOUT.search(text):
        return HelmTimeoutError(
            f"{subject}: timed out waiting for the release's resources to become ready",
            detail=detail,
            hint=f"--atomic rolled the change back. See why pods did not become ready: "
            f"`kubectl get pods -n {namespace}` and `kubectl describe` / `kubectl logs` on the failing ones",
        )
    return HelmError(f"{subject} failed: {summary or 'no error output'}", detail=detail)
