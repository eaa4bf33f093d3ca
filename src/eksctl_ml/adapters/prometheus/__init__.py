"""Prometheus: the HTTP API of a running server (instant queries, targets, alerts, readiness).

``protocol.py`` is the contract (:class:`~eksctl_ml.adapters.prometheus.protocol.PrometheusApi`);
``client.py`` implements it over a small transport: plain HTTP, or the Kubernetes API server's service proxy.
"""
