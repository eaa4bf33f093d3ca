"""Adapters: small typed wrappers around external systems (Terraform, Helm, Kubernetes, AWS, Triton).

Each family has a ``protocol.py`` (the contract phases code against) and implementations that wrap
library exceptions into :mod:`eksctl_ml.errors`. :class:`Adapters` hands them to phases; it builds
each one on first use, so commands that never touch a system never import its SDK.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eksctl_ml.errors import UsageError

if TYPE_CHECKING:
    from eksctl_ml.adapters.aws.protocol import AwsClients
    from eksctl_ml.adapters.helm.protocol import HelmClient
    from eksctl_ml.adapters.kubernetes.protocol import KubernetesClient
    from eksctl_ml.adapters.terraform.protocol import TerraformRunner
    from eksctl_ml.adapters.triton.protocol import TritonClient


def _missing(name: str) -> Callable[[], object]:
    def factory() -> object:
        raise UsageError(f"no {name} adapter is configured for this command")

    return factory


@dataclass
class Adapters:
    """Lazily built adapters. Tests pass fakes through the factories."""

    aws_factory: Callable[[], AwsClients] = field(default=_missing("AWS"))  # type: ignore[assignment]
    terraform_factory: Callable[[], TerraformRunner] = field(default=_missing("Terraform"))  # type: ignore[assignment]
    helm_factory: Callable[[], HelmClient] = field(default=_missing("Helm"))  # type: ignore[assignment]
    kubernetes_factory: Callable[[], KubernetesClient] = field(default=_missing("Kubernetes"))  # type: ignore[assignment]
    triton_factory: Callable[[], TritonClient] = field(default=_missing("Triton"))  # type: ignore[assignment]
    _built: dict[str, object] = field(default_factory=dict, repr=False)

    def _get(self, key: str, factory: Callable[[], object]) -> object:
        if key not in self._built:
            self._built[key] = factory()
        return self._built[key]

    @property
    def aws(self) -> AwsClients:
        return self._get("aws", self.aws_factory)  # type: ignore[return-value]

    @property
    def terraform(self) -> TerraformRunner:
        return self._get("terraform", self.terraform_factory)  # type: ignore[return-value]

    @property
    def helm(self) -> HelmClient:
        return self._get("helm", self.helm_factory)  # type: ignore[return-value]

    @property
    def kubernetes(self) -> KubernetesClient:
        return self._get("kubernetes", self.kubernetes_factory)  # type: ignore[return-value]

    @property
    def triton(self) -> TritonClient:
        return self._get("triton", self.triton_factory)  # type: ignore[return-value]
