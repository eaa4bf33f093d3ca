"""Readiness gates: prove a resource works and, when it does not, say why (see ``engine.phase.CheckResult``).

``polling`` waits for things to settle; ``aws`` holds the gates of AWS resources (EKS, EFS, NAT, S3, IAM,
KMS). Import the gates from ``eksctl_ml.readiness.aws``: this package imports nothing heavy on its own.
"""
