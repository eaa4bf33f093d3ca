"""mlplat's embedded AWS emulator: moto server with its EKS gaps patched.

The ``local`` environment applies the production Terraform unchanged against this emulator.
moto 5.2.5 lacks or mis-describes parts of EKS that the stacks use (add-ons, access entries,
``accessConfig``, node group ``updateConfig``, ...); :mod:`eksctl_ml.emulator.patches` closes each
gap at moto's response level before the server handles a request, so a second ``terraform plan``
shows no changes. The version of moto is pinned (:data:`REQUIRED_MOTO_VERSION`).

* ``python -m eksctl_ml.emulator --host 127.0.0.1 --port N``: serve in the foreground.
* :class:`EmbeddedEmulator`: start/status/stop a detached emulator tracked in a state directory.

Importing this package does not import moto; the server and the patches do.
"""

from __future__ import annotations

from .compat import REQUIRED_MOTO_VERSION, ensure_supported_moto
from .errors import EmulatorError
from .process import EmbeddedEmulator, EmulatorInfo
from .server import HEALTH_PATH

__all__ = [
    "HEALTH_PATH",
    "REQUIRED_MOTO_VERSION",
    "EmbeddedEmulator",
    "EmulatorError",
    "EmulatorInfo",
    "ensure_supported_moto",
]
