"""The moto version the emulator's patches were written against, and the check that enforces it.

Every patch in :mod:`eksctl_ml.emulator.patches` reaches into moto's EKS/EC2 models and responses,
which change between releases. Running them against another moto could silently mis-emulate AWS,
so the launcher refuses any version but :data:`REQUIRED_MOTO_VERSION`.
"""

from __future__ import annotations

from importlib import metadata

from .errors import EmulatorError

REQUIRED_MOTO_VERSION = "5.2.5"
"""Exact moto release the patches target (``pip install 'moto[server]==5.2.5'``)."""

_INSTALL_HINT = "install it with: pip install 'moto[server]==5.2.5' (or the project's 'local' extra)"


def installed_moto_version() -> str | None:
    """The installed moto distribution's version, or None when moto is not installed."""
    try:
        return metadata.version("moto")
    except metadata.PackageNotFoundError:
        return None


def ensure_supported_moto() -> str:
    """Return the installed moto version; raise :class:`EmulatorError` unless it is the pinned one."""
    version = installed_moto_version()
    if version is None:
        raise EmulatorError("the embedded AWS emulator needs moto, which is not installed", hint=_INSTALL_HINT)
    if version != REQUIRED_MOTO_VERSION:
        raise EmulatorError(
            f"the embedded AWS emulator supports moto {REQUIRED_MOTO_VERSION} only, found moto {version}: "
            "its patches to moto's EKS responses are version-specific",
            hint=_INSTALL_HINT,
        )
    return version
