"""`mlplat config validate|show` on good files, env selection, and many mistakes reported at once."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksctl_ml.errors import ExitCode

ENVS_DIR = Path(__file__).resolve().parents[2] / "envs"
REPO_ENVS = sorted(p.stem for p in ENVS_DIR.glob("*.yaml"))


def test_repository_ships_the_documented_envs() -> None:
    assert {"local", "dev", "staging", "prod"} <= set(REPO_ENVS)


@pytest.mark.parametrize("name", REPO_ENVS)
def test_every_repo_env_validates(name: str, cli: Any) -> None:
    run = cli("config", "validate", "--env", name, "--config-dir", str(ENVS_DIR))

    assert run.exit_code == ExitCode.OK, run.text
    assert f"is valid (env '{name}')" in run.flat


@pytest.mark.parametrize("name", REPO_ENVS)
def test_every_repo_env_validates_as_json(name: str, cli: Any) -> None:
    run = cli("config", "validate", "--env", name, "--config-dir", str(ENVS_DIR), "-o", "json")

    assert run.exit_code == ExitCode.OK, run.text
    assert json.loads(run.result.stdout) == {"env": name, "file": str(ENVS_DIR / f"{name}.yaml"), "valid": True}


def _show_json(cli: Any, name: str = "local") -> dict[str, Any]:
    run = cli("config", "show", "--env", name, "--config-dir", str(ENVS_DIR), "-o", "json")
    assert run.exit_code == ExitCode.OK, run.text
    document = json.loads(run.result.stdout)
    assert isinstance(document, dict)
    return document


def test_show_json_has_derived_values(cli: Any) -> None:
    document = _show_json(cli)
    az_count = document["network"]["az_count"]
    derived = document["derived"]

    assert document["env"] == "local"
    assert len(derived["private_subnets"]) == az_count
    assert len(derived["public_subnets"]) == az_count
    vpc = ipaddress.IPv4Network(document["network"]["vpc_cidr"])
    assert all(ipaddress.IPv4Network(s).subnet_of(vpc) for s in derived["private_subnets"] + derived["public_subnets"])
    assert derived["tags"]["mlplat:env"] == "local"
    assert derived["tags"]["mlplat:cluster"] == document["cluster"]["name"]
    assert derived["tags"]["team"] == "ml-platform"  # the file's own tags are kept
    assert derived["state_bucket"] == "mlplat-state-123456789012-us-east-1"
    # defaults the file does not spell out are resolved
    assert document["triton"]["image_tag"] == "24.10-py3"
    assert document["cluster"]["addon_versions"]["coredns"]


def test_show_text_is_yaml_of_the_same_document(cli: Any) -> None:
    run = cli("config", "show", "--env", "local", "--config-dir", str(ENVS_DIR))

    assert run.exit_code == ExitCode.OK, run.text
    parsed = yaml.safe_load(run.result.stdout)
    assert parsed == _show_json(cli)


def test_env_var_selects_the_env(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPLAT_ENV", "dev")

    run = cli("config", "show", "--config-dir", str(ENVS_DIR), "-o", "json")

    assert run.exit_code == ExitCode.OK, run.text
    document = json.loads(run.result.stdout)
    assert document["env"] == "dev"
    assert document["cluster"]["name"] == "mlplat-dev"


def test_config_dir_env_var_is_used(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPLAT_CONFIG_DIR", str(ENVS_DIR))

    run = cli("config", "validate", "--env", "prod")

    assert run.exit_code == ExitCode.OK, run.text
    assert str(ENVS_DIR / "prod.yaml") in run.flat


def test_missing_env_name_is_a_usage_error(cli: Any) -> None:
    run = cli("config", "validate", "--config-dir", str(ENVS_DIR))

    assert run.exit_code == ExitCode.USAGE, run.text
    assert "no environment given" in run.text
    assert "--env" in run.text
    assert "MLPLAT_ENV" in run.text


def test_unknown_env_lists_the_known_ones(cli: Any) -> None:
    run = cli("config", "validate", "--env", "nope", "--config-dir", str(ENVS_DIR))

    assert run.exit_code == ExitCode.USAGE, run.text
    assert "nope.yaml not found" in run.flat
    for name in REPO_ENVS:
        assert name in run.text


def test_unknown_env_in_empty_dir_says_how_to_start(cli: Any, tmp_path: Path) -> None:
    run = cli("config", "validate", "--env", "dev", "--config-dir", str(tmp_path))

    assert run.exit_code == ExitCode.USAGE, run.text
    assert "not found" in run.text
    assert "--config-dir" in run.flat


@pytest.mark.parametrize("name", ["Bad_Name", "1dev", "../local", "a"])
def test_invalid_env_name_is_a_usage_error(name: str, cli: Any) -> None:
    run = cli("config", "validate", "--env", name, "--config-dir", str(ENVS_DIR))

    assert run.exit_code == ExitCode.USAGE, run.text
    assert f"invalid environment name {name!r}" in run.text


MANY_MISTAKES = """\
aws:
  region: eu-wets-1
  account_id: 12345
cluster:
  name: mlplat-test
  kubernetes_version: "1.22"
network:
  vpc_cidr: 10.0.0.0/16
  az_count: 3
node_groups:
  cpu:
    instance_types: [m5.large]
    min_size: 3
    desired_size: 1
    max_size: 2
  gpu:
    instance_types: [m5.xlarge]
    min_size: 0
    desired_size: 1
    max_size: 1
    taints:
      - {key: nvidia.com/gpu, value: "true", effect: NoSchedule}
features:
  gitops: jenkins
model_repository:
  s3_bucket: Models
triton:
  image_tag: latest
"""

# line -> field path, for each mistake above
MANY_EXPECTED = {
    2: "aws.region",
    3: "aws.account_id",
    6: "cluster.kubernetes_version",
    14: "node_groups.cpu.desired_size",
    17: "node_groups.gpu.instance_types",
    24: "features.gitops",
    26: "model_repository.s3_bucket",
    28: "triton.image_tag",
}


def test_every_mistake_is_reported_at_once(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "bad.yaml").write_text(MANY_MISTAKES, encoding="utf-8")
    bad = tmp_path / "bad.yaml"

    run = cli("config", "validate", "--env", "bad", "--config-dir", str(tmp_path))

    assert run.exit_code == ExitCode.USAGE, run.text
    assert f"{len(MANY_EXPECTED)} problem(s)" in run.text
    reported = re.findall(rf"{re.escape(str(bad))}:(\d+): ([\w.\[\]]+): ", run.text)
    assert len(reported) >= 4
    assert {int(line): path for line, path in reported} == MANY_EXPECTED
    assert "did you mean 'eu-west-1'?" in run.text


def test_every_mistake_is_reported_at_once_as_json(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "bad.yaml").write_text(MANY_MISTAKES, encoding="utf-8")

    run = cli("config", "validate", "--env", "bad", "--config-dir", str(tmp_path), "-o", "json")

    assert run.exit_code == ExitCode.USAGE
    issues = json.loads(run.result.stdout)["issues"]
    assert len(issues) == len(MANY_EXPECTED) >= 4
    for line, path in MANY_EXPECTED.items():
        assert any(issue.startswith(f"{tmp_path / 'bad.yaml'}:{line}: {path}: ") for issue in issues), issues
