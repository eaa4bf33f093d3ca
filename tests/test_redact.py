"""Secrets are masked before text reaches a terminal, a log or the journal; JSON stays JSON."""

from __future__ import annotations

import json

import pytest

from eksctl_ml.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("password=hunter2", "hunter2"),
        ('{"password": "hunter2"}', "hunter2"),
        ("AWS_SECRET_ACCESS_KEY: abcdEFGH1234", "abcdEFGH1234"),
        ("Authorization: Bearer k8s-aws-v1.aHR0cHM6Ly9zdHM", "aHR0cHM6Ly9zdHM"),
        ("key AKIAABCDEFGHIJKLMNOP used", "ABCDEFGHIJKLMNOP"),
        ('"webhook_url": "https://hooks.slack.com/services/T0/B0/x"', "hooks.slack.com"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "MIIE"),
    ],
)
def test_secret_values_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert "redacted" in redact(text)


def test_json_literals_are_not_secrets_and_json_stays_parseable() -> None:
    document = json.dumps({"alerting": {"webhook_url": None, "pagerduty": False}, "password": "s3cret"}, indent=2)
    parsed = json.loads(redact(document))
    assert parsed["alerting"]["webhook_url"] is None
    assert parsed["password"] == "<redacted>"
