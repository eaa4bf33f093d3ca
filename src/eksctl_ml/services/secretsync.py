"""Copy secrets from AWS Secrets Manager into Kubernetes Secrets, never letting a value out.

The Terraform layer creates the secrets (Grafana admin credentials, Alertmanager receiver credentials)
in Secrets Manager; the workloads read them as Kubernetes Secrets. This module is the one place that
holds the values in memory on the way: they are never logged, journaled, returned, or put into Helm
values. What it reports (:class:`SyncedSecret`) names the Secret and its keys, never what they hold.

Every Secrets Manager secret mlplat syncs is a JSON object of string values (that is how the
Terraform modules write them); a secret in another shape is an error naming the ARN, not its content.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eksctl_ml.adapters.aws.protocol import AwsClients
from eksctl_ml.adapters.aws.session import error_code
from eksctl_ml.adapters.kubernetes.protocol import KubernetesClient
from eksctl_ml.errors import AwsError, PhaseError

MANAGED_BY_LABELS: Mapping[str, str] = {"app.kubernetes.io/managed-by": "mlplat"}
_NOT_FOUND = {"ResourceNotFoundException"}
_NO_VALUE = {"InvalidRequestException"}  # e.g. the secret is scheduled for deletion
_ACCESS = {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "KMSAccessDeniedException"}


@dataclass(frozen=True)
class SecretSync:
    """One Secrets Manager secret -> one Kubernetes Secret."""

    arn: str
    """ARN (or name) of the Secrets Manager secret."""
    namespace: str
    name: str
    """The Kubernetes Secret written (created or replaced)."""
    required_keys: tuple[str, ...] = ()
    """Keys the JSON must have (a missing one is an error naming the key, not the value)."""
    non_empty_keys: tuple[str, ...] = ()
    """Keys whose value must not be empty (a placeholder left by Terraform, e.g. a receiver the env uses)."""
    purpose: str = ""
    """What the secret is for, said in errors ("Grafana admin credentials")."""
    fix: str = ""
    """How to put a real value in (said when a non-empty key is empty)."""


@dataclass(frozen=True)
class SyncedSecret:
    """What was written: where, and which keys. Safe to print and to journal."""

    namespace: str
    name: str
    keys: tuple[str, ...]
    source_arn: str

    def describe(self) -> str:
        return f"Secret {self.namespace}/{self.name} (keys {', '.join(self.keys)}) from {self.source_arn}"


@dataclass
class _Collected:
    """Values in flight (kept out of reprs, so a traceback or a debugger print does not show them)."""

    values: dict[str, str] = field(repr=False, default_factory=dict)


def _read(aws: AwsClients, sync: SecretSync) -> _Collected:
    what = sync.purpose or "secret"
    try:
        answer: Any = aws.client("secretsmanager").get_secret_value(SecretId=sync.arn)
    except Exception as exc:  # botocore errors; anything else is wrapped the same way
        code = error_code(exc)
        if code in _NOT_FOUND:
            raise PhaseError(
                f"the Secrets Manager secret {sync.arn} ({what}) does not exist",
                hint="it is created by the iam phase: run `mlplat up --env <env> --only iam`, or, if it was deleted, "
                f"restore it (aws secretsmanager restore-secret --secret-id {sync.arn})",
            ) from exc
        if code in _NO_VALUE:
            raise PhaseError(
                f"the Secrets Manager secret {sync.arn} ({what}) cannot be read: {code}",
                hint=f"it may be scheduled for deletion: aws secretsmanager restore-secret --secret-id {sync.arn}, "
                "then run `mlplat up --env <env> --only iam`",
            ) from exc
        hint = None
        if code in _ACCESS:
            hint = (
                "the identity mlplat runs as needs secretsmanager:GetSecretValue on the secret and kms:Decrypt on "
                "its KMS key (the data key of the iam phase)"
            )
        raise AwsError(
            f"reading the Secrets Manager secret {sync.arn} ({what}) failed" + (f": {code}" if code else ""),
            detail=str(exc),  # the SDK's error message (never the value: reading it is what failed)
            hint=hint,
        ) from exc
    text = answer.get("SecretString")
    if not isinstance(text, str):
        raise PhaseError(
            f"the Secrets Manager secret {sync.arn} ({what}) has no string value (binary or empty)",
            hint=f"store a JSON object with the keys {', '.join(sync.required_keys) or '...'} as its SecretString",
        )
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not all(isinstance(v, str) for v in document.values()):
        raise PhaseError(
            f"the Secrets Manager secret {sync.arn} ({what}) is not a JSON object of strings",
            hint=f"store it as {{{', '.join(f'{k!r}: ...' for k in sync.required_keys)}}} "
            f"(aws secretsmanager put-secret-value --secret-id {sync.arn} --secret-string file://value.json)",
        )
    missing = [key for key in sync.required_keys if key not in document]
    if missing:
        raise PhaseError(
            f"the Secrets Manager secret {sync.arn} ({what}) lacks the key(s) {', '.join(missing)}",
            hint=f"add them: aws secretsmanager put-secret-value --secret-id {sync.arn} --secret-string "
            "file://value.json (a JSON object with every key)",
        )
    empty = [key for key in sync.non_empty_keys if not document.get(key)]
    if empty:
        raise PhaseError(
            f"the Secrets Manager secret {sync.arn} ({what}) has an empty {', '.join(empty)}",
            hint=sync.fix
            or f"put the real value in: aws secretsmanager put-secret-value --secret-id {sync.arn} "
            "--secret-string file://value.json",
        )
    return _Collected(dict(document))


def sync_secrets(
    aws: AwsClients,
    kube: KubernetesClient,
    syncs: Sequence[SecretSync],
    *,
    progress: Callable[[str], None] | None = None,
) -> list[SyncedSecret]:
    """Read every secret first (so a bad one changes nothing in the cluster), then write each into its
    Kubernetes Secret (created or replaced; the namespace is created if missing)."""
    collected = [(sync, _read(aws, sync)) for sync in syncs]
    written: list[SyncedSecret] = []
    for sync, secret in collected:
        kube.apply_secret(sync.namespace, sync.name, secret.values, dict(MANAGED_BY_LABELS))
        done = SyncedSecret(sync.namespace, sync.name, tuple(sorted(secret.values)), sync.arn)
        if progress is not None:
            progress(f"synced {done.describe()}")
        written.append(done)
    return written


def delete_synced(
    kube: KubernetesClient, targets: Sequence[tuple[str, str]], *, progress: Callable[[str], None] | None = None
) -> list[tuple[str, bool]]:
    """Delete the Kubernetes Secrets ``(namespace, name)``; already gone is success. Returns (name, was there)."""
    results: list[tuple[str, bool]] = []
    for namespace, name in targets:
        was_there = kube.delete_secret(namespace, name)
        if progress is not None:
            progress(f"Secret {namespace}/{name}: {'deleted' if was_there else 'already gone'}")
        results.append((f"{namespace}/{name}", was_there))
    return results
