"""Where Terraform gets its providers: an offline filesystem mirror, found or given, and the CLI config.

With a mirror, the runner writes its own CLI configuration file into the stack's workdir::

    provider_installation {
      filesystem_mirror { path = "<mirror>" }
      direct { exclude = ["*/*"] }
    }

and points ``TF_CLI_CONFIG_FILE`` at it, so ``init`` never goes to the network and never depends on the
user's ``~/.terraformrc``. Without a mirror, Terraform's own configuration applies unchanged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from eksctl_ml.errors import TerraformError

MIRROR_ENV = "MLPLAT_TF_PROVIDER_MIRROR"
REQUIRED_PROVIDER = ("registry.terraform.io", "hashicorp", "aws")


def well_known_mirror_roots(env: Mapping[str, str] | None = None) -> list[Path]:
    """Folders where a provider mirror is commonly installed, most specific first."""
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home())
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    roots = [
        Path("/opt/tf-plugins"),
        home / ".terraform.d" / "plugins",
        data_home / "terraform" / "plugins",
        Path("/usr/local/share/terraform/plugins"),
        Path("/usr/share/terraform/plugins"),
    ]
    roots.extend(Path(part) / "terraform" / "plugins" for part in env.get("XDG_DATA_DIRS", "").split(":") if part)
    seen: set[Path] = set()
    unique = []
    for root in roots:
        if root not in seen:
            seen.add(root)
            unique.append(root)
    return unique


def has_aws_provider(root: Path) -> bool:
    """True when ``root`` is a mirror (contains ``registry.terraform.io``) holding some hashicorp/aws."""
    provider = root.joinpath(*REQUIRED_PROVIDER)
    try:
        return provider.is_dir() and any(version.is_dir() or version.is_file() for version in provider.iterdir())
    except OSError:
        return False


def find_provider_mirror(env: Mapping[str, str] | None = None, roots: Sequence[Path] | None = None) -> Path | None:
    """The provider mirror to use: ``$MLPLAT_TF_PROVIDER_MIRROR``, else the first well-known root whose
    ``registry.terraform.io/hashicorp/aws`` exists, else None (Terraform installs providers its own way).

    An explicitly configured mirror that does not exist is an error, not a silent fallback.
    """
    env = os.environ if env is None else env
    configured = env.get(MIRROR_ENV, "").strip()
    if configured:
        path = Path(configured).expanduser()
        if path.name == "registry.terraform.io":  # pointed at the hostname folder instead of its parent
            path = path.parent
        if not path.is_dir():
            raise TerraformError(
                f"{MIRROR_ENV}={configured} is not a folder",
                hint="point it at the folder that contains registry.terraform.io/hashicorp/aws, or unset it",
            )
        return path
    for root in well_known_mirror_roots(env) if roots is None else roots:
        if has_aws_provider(root):
            return root
    return None


def cli_config_text(mirror: Path) -> str:
    """A CLI configuration that installs every provider from ``mirror`` and nothing from the network."""
    quoted = json.dumps(str(mirror))  # a JSON string is a valid HCL string literal
    return (
        "# written by mlplat: providers come only from the filesystem mirror\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path = {quoted}\n"
        "  }\n"
        "  direct {\n"
        '    exclude = ["*/*"]\n'
        "  }\n"
        "}\n"
    )


def write_if_changed(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Write ``text`` atomically unless the file already holds it."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(mode)
    tmp.replace(path)
