"""AWS tags in one shape, whichever shape the API returned them in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def tag_dict(raw: Any) -> dict[str, str]:
    """Tags as a dict, from any of the shapes AWS uses (Key/Value, TagKey/TagValue, or a map)."""
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    tags: dict[str, str] = {}
    for item in raw or ():
        key = item.get("Key", item.get("TagKey"))
        if key is not None:
            tags[str(key)] = str(item.get("Value", item.get("TagValue", "")))
    return tags
