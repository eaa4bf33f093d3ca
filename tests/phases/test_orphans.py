"""The adoption loop's rules, with the recording Terraform fake and a scripted AWS lookup.

The real thing (terraform, provider, emulator) is in tests/adapters/terraform/test_orphan_adoption.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fakes.adapters import FakeAws, FakeTerraform

from eksctl_ml.adapters.aws.existing import FoundResource
from eksctl_ml.adapters.aws.protocol import AwsClients
from eksctl_ml.adapters.terraform.protocol import (
    ExistingResource,
    PlanSummary,
    ProgressCallback,
    ResourceExistsError,
    Stack,
)
from eksctl_ml.errors import PhaseError
from eksctl_ml.phases import orphans

LOG_GROUP = ExistingResource("module.eks.aws_cloudwatch_log_group.this", "aws_cloudwatch_log_group", "/aws/eks/c/x")
ROLE = ExistingResource("aws_iam_role.this", "aws_iam_role", "c-role")
OURS = {"mlplat:env": "dev", "mlplat:cluster": "c"}


class TakenNames(FakeTerraform):
    """An apply that fails on ``taken`` names for its first ``failures`` runs."""

    def __init__(self, taken: list[ExistingResource], failures: int = 1) -> None:
        super().__init__(wanted={"s": ["a"]})
        self.taken = taken
        self.failures = failures

    def apply(self, stack: Stack, plan: PlanSummary, *, progress: ProgressCallback | None = None) -> None:
        self.calls.append(("apply", stack.name))
        if self.failures > 0:
            self.failures -= 1
            raise ResourceExistsError("creating ...: already exists", existing=tuple(self.taken))
        self.state[stack.name] = ["a"]


class Lookups(dict[str, list[FoundResource]]):
    """What AWS has under each name (set by the test); ``asked`` records every lookup."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def find(self, aws: AwsClients, resource_type: str, name: str) -> list[FoundResource]:
        self.asked.append(name)
        return self.get(name, [])


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Lookups:
    table = Lookups()
    monkeypatch.setattr(orphans, "find_existing", table.find)
    return table


def run(tf: FakeTerraform, tmp_path: Path, progress: list[str] | None = None) -> None:
    stack = Stack("s", tmp_path, tmp_path / "work")
    orphans.apply_adopting_orphans(
        tf,
        FakeAws(),
        stack,
        tmp_path / "vars.json",
        env="dev",
        cluster="c",
        phase="cluster",
        progress=(progress if progress is not None else []).append,
    )


def test_orphans_tagged_as_this_envs_are_imported_then_the_apply_runs_again(tmp_path: Path, lookups: Lookups) -> None:
    lookups["/aws/eks/c/x"] = [FoundResource("/aws/eks/c/x", OURS)]
    lookups["c-role"] = [FoundResource("c-role", {**OURS, "team": "ml"})]
    tf = TakenNames([LOG_GROUP, ROLE])
    progress: list[str] = []
    run(tf, tmp_path, progress)
    assert tf.calls == [
        ("plan", "s"),
        ("apply", "s"),
        ("import", "module.eks.aws_cloudwatch_log_group.this=/aws/eks/c/x"),
        ("import", "aws_iam_role.this=c-role"),
        ("plan", "s"),
        ("apply", "s"),
    ]
    assert any(line.startswith("aws_iam_role.this: adopting c-role") for line in progress)


def test_a_name_still_taken_after_its_adoption_is_raised_not_retried_forever(tmp_path: Path, lookups: Lookups) -> None:
    lookups["c-role"] = [FoundResource("c-role", OURS)]
    tf = TakenNames([ROLE], failures=5)
    with pytest.raises(ResourceExistsError):
        run(tf, tmp_path)
    assert [call[0] for call in tf.calls] == ["plan", "apply", "import", "plan", "apply"]


@pytest.mark.parametrize(
    ("found", "reason"),
    [
        (
            [FoundResource("c-role", {"mlplat:env": "prod", "mlplat:cluster": "c"})],
            "it is tagged mlplat:env=prod, mlplat:cluster=c",
        ),
        (
            [FoundResource("c-role", {"mlplat:env": "dev", "mlplat:cluster": "other"})],
            "it is tagged mlplat:env=dev, mlplat:cluster=other",
        ),
        ([FoundResource("c-role", {})], "it carries no mlplat:env tag"),
        ([], "AWS says it exists, but it cannot be found"),
        ([FoundResource("sg-1", OURS), FoundResource("sg-2", OURS)], "2 resources of that name are this env's"),
    ],
)
def test_a_name_not_provably_this_envs_stops_the_phase_and_nothing_is_imported(
    tmp_path: Path, lookups: Lookups, found: list[FoundResource], reason: str
) -> None:
    lookups["/aws/eks/c/x"] = [FoundResource("/aws/eks/c/x", OURS)]  # adoptable, yet not imported alone
    lookups["c-role"] = found
    tf = TakenNames([LOG_GROUP, ROLE])
    with pytest.raises(PhaseError) as failed:
        run(tf, tmp_path)
    assert f"aws_iam_role.this (c-role): {reason}" in failed.value.message
    assert failed.value.phase == "cluster"
    assert "mlplat:env=dev and mlplat:cluster=c" in (failed.value.hint or "")
    assert not [call for call in tf.calls if call[0] == "import"]


def test_a_type_mlplat_does_not_adopt_is_refused_without_asking_aws(tmp_path: Path, lookups: Lookups) -> None:
    provider = ExistingResource("aws_iam_openid_connect_provider.this", "aws_iam_openid_connect_provider", "x")
    with pytest.raises(PhaseError, match="mlplat does not adopt aws_iam_openid_connect_provider"):
        run(TakenNames([provider]), tmp_path)
    assert lookups.asked == []
