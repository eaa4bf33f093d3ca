"""Patch ``ec2-launch-template-tags``: the tags of a launch template itself.

Gap 1 (moto 5.2.5): CreateLaunchTemplate copies the request's top-level ``TagSpecifications``
(which tag the launch template itself, resource type ``launch-template``) into
``LaunchTemplateData.TagSpecifications``. DescribeLaunchTemplateVersions then reports a
``launch-template`` tag specification the configuration never had, and every plan of an
``aws_launch_template`` with ``tags`` shows an in-place change.

Closed by: removing those copied entries from the first version's data after moto created it;
the tags stay on the launch template resource itself.

Gap 2 (moto 5.2.5): a launch template reports the tags it was created with forever
(``LaunchTemplate.tags`` is a snapshot taken in ``__init__``), so CreateTags/DeleteTags on it (a
``tags`` change in Terraform) never show in DescribeLaunchTemplates and the diff never converges.
Closed by: making ``tags`` a read-through property over the EC2 tag store.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models.launch_templates import LaunchTemplate
from moto.ec2.responses.launch_templates import LaunchTemplates

_original_create: Any = LaunchTemplates.create_launch_template


def _create_launch_template(self: Any) -> Any:
    """CreateLaunchTemplate without the leaked ``launch-template`` tag specifications."""
    requested = self._get_param("LaunchTemplateData", {}) or {}
    requested_types = {spec.get("ResourceType") for spec in requested.get("TagSpecifications", []) or []}
    result = _original_create(self)
    name = self._get_param("LaunchTemplateName")
    for template in self.ec2_backend.describe_launch_templates(template_names=[name]):
        for version in template.versions:
            specs = version.data.get("TagSpecifications")
            if not specs:
                continue
            kept = [
                s for s in specs if s.get("ResourceType") != "launch-template" or "launch-template" in requested_types
            ]
            if kept:
                version.data["TagSpecifications"] = kept
            else:
                del version.data["TagSpecifications"]
    return result


def _current_tags(self: Any) -> Any:
    """The launch template's tags as the EC2 tag store holds them now."""
    return self.get_tags()


def _ignore_snapshot(self: Any, value: Any) -> None:
    """moto's ``__init__`` assigns a snapshot; the tag store stays the source of truth."""


def apply() -> None:
    """Install the patched CreateLaunchTemplate and live launch template tags (idempotent)."""
    setattr(LaunchTemplates, "create_launch_template", _create_launch_template)  # noqa: B010
    setattr(LaunchTemplate, "tags", property(_current_tags, _ignore_snapshot))  # noqa: B010
