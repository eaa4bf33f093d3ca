"""Provider mirror discovery and the CLI configuration the runner writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from eksctl_ml.adapters.terraform.cliconfig import (
    MIRROR_ENV,
    cli_config_text,
    find_provider_mirror,
    well_known_mirror_roots,
    write_if_changed,
)
from eksctl_ml.adapters.terraform.protocol import Stack
from eksctl_ml.adapters.terraform.runner import CliTerraformRunner
from eksctl_ml.errors import TerraformError
from tests.adapters.terraform.conftest import needs_terraform


def _mirror(root: Path) -> Path:
    (root / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0" / "linux_amd64").mkdir(parents=True)
    return root


def test_env_var_wins_over_well_known_roots(tmp_path: Path) -> None:
    chosen = _mirror(tmp_path / "chosen")
    other = _mirror(tmp_path / "other")
    assert find_provider_mirror({MIRROR_ENV: str(chosen)}, roots=[other]) == chosen
    # pointing at the hostname folder itself is understood
    assert find_provider_mirror({MIRROR_ENV: str(chosen / "registry.terraform.io")}, roots=[]) == chosen


def test_a_configured_mirror_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TerraformError, match=MIRROR_ENV):
        find_provider_mirror({MIRROR_ENV: str(tmp_path / "nope")}, roots=[])


def test_first_root_holding_hashicorp_aws_is_found(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "registry.terraform.io" / "hashicorp" / "aws").mkdir(parents=True)  # no version in it
    other_provider = tmp_path / "helm-only"
    (other_provider / "registry.terraform.io" / "hashicorp" / "helm" / "2.0.0").mkdir(parents=True)
    good = _mirror(tmp_path / "good")
    assert find_provider_mirror({}, roots=[tmp_path / "missing", empty, other_provider, good]) == good
    assert find_provider_mirror({}, roots=[empty, other_provider]) is None


def test_well_known_roots_follow_home_and_xdg(tmp_path: Path) -> None:
    roots = well_known_mirror_roots({"HOME": str(tmp_path), "XDG_DATA_DIRS": "/a:/b"})
    assert Path("/opt/tf-plugins") in roots
    assert tmp_path / ".terraform.d" / "plugins" in roots
    assert tmp_path / ".local" / "share" / "terraform" / "plugins" in roots
    assert Path("/usr/share/terraform/plugins") in roots
    assert Path("/b/terraform/plugins") in roots


def test_runner_writes_the_cli_config_into_the_workdir_only_with_a_mirror(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path / "mirror")
    source = tmp_path / "src"
    source.mkdir()
    stack = Stack(name="s", source=source, workdir=tmp_path / "w")
    env = CliTerraformRunner(provider_mirror=mirror, env={"TF_CLI_ARGS_plan": "-lock=false"})._environment(stack)
    config = tmp_path / "w" / "terraformrc"
    assert env["TF_CLI_CONFIG_FILE"] == str(config)
    assert env["TF_DATA_DIR"] == str(tmp_path / "w" / ".terraform")
    assert (env["TF_IN_AUTOMATION"], env["TF_INPUT"], env["CHECKPOINT_DISABLE"]) == ("1", "0", "1")
    assert "TF_CLI_ARGS_plan" not in env
    assert f'path = "{mirror}"' in config.read_text()
    assert list(source.iterdir()) == []

    plain = CliTerraformRunner(discover_mirror=False, plugin_cache_dir=tmp_path / "cache")
    env = plain._environment(Stack(name="t", source=source, workdir=tmp_path / "w2"))
    assert env.get("TF_CLI_CONFIG_FILE") != str(tmp_path / "w2" / "terraformrc")
    assert env["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "cache")


def test_write_if_changed_keeps_an_identical_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    write_if_changed(path, "a")
    before = path.stat().st_mtime_ns
    write_if_changed(path, "a")
    assert path.stat().st_mtime_ns == before
    write_if_changed(path, "b")
    assert path.read_text() == "b"


@needs_terraform
def test_terraform_accepts_the_generated_cli_config(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path / "mirror with space")
    config = tmp_path / "terraformrc"
    config.write_text(cli_config_text(mirror))
    proc = subprocess.run(
        ["terraform", "version"],
        env={"TF_CLI_CONFIG_FILE": str(config), "CHECKPOINT_DISABLE": "1", "PATH": "/usr/local/bin:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert "problems with the CLI configuration" not in proc.stderr
