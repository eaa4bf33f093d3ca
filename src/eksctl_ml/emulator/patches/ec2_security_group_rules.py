"""Patch ``ec2-sg-rule-descriptions``: descriptions of rules that reference another security group.

Gap (moto 5.2.5): DescribeSecurityGroupRules reports no ``Description`` for a rule whose peer is a
security group (``referenced_security_group_id``): ``SecurityGroupRule.description`` reads only
``ip_range["Description"]`` while a group-pair rule keeps it in ``source_group["Description"]``.
Every ``aws_vpc_security_group_{ingress,egress}_rule`` between the cluster, node and EFS groups
then shows ``+ description`` on each plan.

Closed by: a ``description`` property that also reads the group pair's description.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models.security_groups import SecurityGroupRule


def _description(self: Any) -> str | None:
    """The rule's description, whichever kind of peer (CIDR or security group) it has."""
    description = self.ip_range.get("Description") or self.source_group.get("Description")
    return str(description) if description is not None else None


def apply() -> None:
    """Install the description property on moto's SecurityGroupRule (idempotent)."""
    setattr(SecurityGroupRule, "description", property(_description))  # noqa: B010
