"""Masks secrets in any text before it reaches a terminal, a log file or the journal."""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # EKS bearer tokens produced by `mlplat token`
    (re.compile(r"k8s-aws-v1\.[A-Za-z0-9_\-]+"), "k8s-aws-v1.<redacted>"),
    # key: value / key=value pairs whose key names a secret
    (
        re.compile(
            r"(?i)((?:password|passwd|secret_string|secret_access_key|session_token|api_key|auth_token|"
            r"webhook_url|private_key)(?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)"
            # JSON's null/true/false are not secrets, and replacing them would break the document
            r"(?!(?:null|true|false)[\s,}\]]|(?:null|true|false)$)([^\s\"'\\,}]+)"
        ),
        r"\1<redacted>",
    ),
    # AWS access key ids
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), r"\1<redacted>"),
    # PEM blocks
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        "<redacted key>",
    ),
)


def redact(text: str) -> str:
    """``text`` with every recognised secret replaced by a marker."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
