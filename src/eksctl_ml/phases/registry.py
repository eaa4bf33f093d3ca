"""The provision order, as data: an ordered tuple of phases. `down` is the same tuple reversed.

Only phases that really work are registered; each later issue adds its own.
"""

from __future__ import annotations

from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.phase import Phase


def provision_order(env: Environment) -> tuple[Phase, ...]:
    """The phases for ``env``, in the order `up` runs them."""
    return ()
