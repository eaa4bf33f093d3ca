"""Helm releases as data: the pinned catalog (``helm-values/catalog.yaml``), their values, and the
services that install, remove and report them through the HelmClient adapter."""
