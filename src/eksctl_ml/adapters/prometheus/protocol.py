"""Contract of the Prometheus adapter: one Prometheus server's HTTP API (``/api/v1``).

Every method raises :class:`eksctl_ml.errors.PrometheusError` when the server cannot be reached or answers
with an error; a rejected query carries Prometheus's own words (``bad_data: 1:5: parse error: ...``).
:meth:`PrometheusApi.ready` returns False for "not ready yet" (503) and raises only when nothing answered.
Values are floats; Prometheus's ``NaN``, ``+Inf`` and ``-Inf`` come back as the matching float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector (or the single value of a scalar, with no labels)."""

    labels: Mapping[str, str]
    value: float


@dataclass(frozen=True)
class Target:
    """One active scrape target (``/api/v1/targets``)."""

    job: str
    scrape_pool: str
    instance: str
    health: str
    """``up``, ``down`` or ``unknown`` (not scraped yet)."""
    last_error: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    scrape_url: str = ""

    @property
    def up(self) -> bool:
        return self.health == "up"


@dataclass(frozen=True)
class Alert:
    """One active alert (``/api/v1/alerts``): pending (condition true, ``for`` not yet elapsed) or firing."""

    name: str
    state: str
    """``firing`` or ``pending``."""
    severity: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    active_at: datetime | None = None

    @property
    def firing(self) -> bool:
        return self.state == "firing"


class PrometheusApi(Protocol):
    """A running Prometheus server."""

    @property
    def where(self) -> str:
        """Where the server is, for messages (a URL, or ``namespace/service:port`` in the cluster)."""
        ...

    def ready(self) -> bool:
        """True when ``/-/ready`` answers 200 (the server has loaded its TSDB and serves queries)."""
        ...

    def query(self, promql: str, *, at: datetime | float | None = None) -> list[Sample]:
        """Evaluate ``promql`` at ``at`` (a datetime or Unix seconds; None: the server's now).

        An instant vector gives one :class:`Sample` per series, a scalar one label-less sample; a range
        vector or a string is a :class:`~eksctl_ml.errors.PrometheusError` (not an instant query result).
        """
        ...

    def targets(self) -> list[Target]:
        """The active scrape targets and their health."""
        ...

    def alerts(self) -> list[Alert]:
        """Alerts that are pending or firing now."""
        ...
