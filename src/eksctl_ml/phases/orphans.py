"""Adopt resources an interrupted apply created but never recorded.

Ctrl-C makes terraform cancel the API calls in flight. AWS may already have carried out a create call it
cancels: the resource exists, the state does not know it, and the next apply fails with
``ResourceAlreadyExistsException`` (or ``EntityAlreadyExists``...). Resuming must not need a person to
run ``terraform import`` by hand.

A resource is adopted only when it is provably this env's: it carries ``mlplat:env=<env>`` and
``mlplat:cluster=<cluster>``, the tags every stack's provider puts on what it creates. Anything else
whose name is taken (another env's, a person's, an untagged bucket) stops the phase, imports nothing,
and is named with the way out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from eksctl_ml.adapters.aws.existing import ADOPTABLE_TYPES, FoundResource, find_existing
from eksctl_ml.adapters.aws.protocol import AwsClients
from eksctl_ml.adapters.terraform.protocol import (
    ExistingResource,
    ProgressCallback,
    ResourceExistsError,
    Stack,
    TerraformRunner,
)
from eksctl_ml.errors import PhaseError


def owned(tags: Mapping[str, str], env: str, cluster: str) -> bool:
    """True when ``tags`` say the resource was created by this env's stacks."""
    return tags.get("mlplat:env") == env and tags.get("mlplat:cluster") == cluster


def _describe_tags(candidates: Sequence[FoundResource]) -> str:
    """``it is tagged mlplat:env=prod, mlplat:cluster=x`` (one per distinct tagging), or no tag at all."""
    seen = []
    for found in candidates:
        pairs = [f"{key}={found.tags[key]}" for key in ("mlplat:env", "mlplat:cluster") if key in found.tags]
        if pairs and ", ".join(pairs) not in seen:
            seen.append(", ".join(pairs))
    return "it is tagged " + " / ".join(seen) if seen else "it carries no mlplat:env tag"


def adopt_orphans(
    tf: TerraformRunner,
    aws: AwsClients,
    stack: Stack,
    var_file: Path,
    existing: Sequence[ExistingResource],
    *,
    env: str,
    cluster: str,
    phase: str,
    progress: ProgressCallback,
) -> None:
    """Import every resource in ``existing`` into the stack's state, or none of them.

    Each must be of a type in ADOPTABLE_TYPES, found under its name, and owned by ``env``/``cluster``;
    otherwise PhaseError lists every refusal and nothing is imported.
    """
    adoptions: list[tuple[ExistingResource, FoundResource]] = []
    refusals: list[str] = []
    for resource in existing:
        if resource.type not in ADOPTABLE_TYPES:
            refusals.append(f"{resource.address} ({resource.name}): mlplat does not adopt {resource.type}")
            continue
        candidates = find_existing(aws, resource.type, resource.name)
        ours = [found for found in candidates if owned(found.tags, env, cluster)]
        if len(ours) == 1:
            adoptions.append((resource, ours[0]))
        elif not candidates:
            refusals.append(f"{resource.address} ({resource.name}): AWS says it exists, but it cannot be found")
        elif len(ours) > 1:
            refusals.append(f"{resource.address} ({resource.name}): {len(ours)} resources of that name are this env's")
        else:
            refusals.append(f"{resource.address} ({resource.name}): {_describe_tags(candidates)}")
    if refusals:
        raise PhaseError(
            f"phase {phase!r} cannot create what it needs: the names are taken by resources that are not "
            f"provably env {env!r}'s\n  " + "\n  ".join(refusals),
            phase=phase,
            hint=f"delete or rename them, or choose another cluster.name; if one is this env's, tag it "
            f"mlplat:env={env} and mlplat:cluster={cluster} and run again to adopt it",
        )
    for resource, found in adoptions:
        progress(
            f"{resource.address}: adopting {resource.name} (it exists and is tagged as env {env}'s: "
            "an interrupted run created it without recording it)"
        )
        tf.import_resource(stack, var_file, resource.address, found.import_id, progress=progress)


def apply_adopting_orphans(
    tf: TerraformRunner,
    aws: AwsClients,
    stack: Stack,
    var_file: Path,
    *,
    env: str,
    cluster: str,
    phase: str,
    progress: ProgressCallback,
) -> None:
    """Plan and apply the stack; when the apply fails only on names this env's orphans hold, adopt them,
    then plan and apply again. A name that is taken again after its adoption is re-raised."""
    adopted: set[str] = set()
    while True:
        summary = tf.plan(stack, var_file, progress=progress)
        if not summary.has_changes:
            progress("no changes")
            return
        progress(f"applying: {summary.describe()}")
        try:
            tf.apply(stack, summary, progress=progress)
            return
        except ResourceExistsError as exc:
            # Each round adopts at least one new address, so the loop ends.
            fresh = [found for found in exc.existing if found.address not in adopted]
            if not fresh:
                raise
            adopt_orphans(tf, aws, stack, var_file, fresh, env=env, cluster=cluster, phase=phase, progress=progress)
            adopted.update(found.address for found in fresh)
