"""The environment-file reference, generated from the models' field descriptions.

``python -m eksctl_ml.config.reference`` prints it as Markdown; the README embeds it between markers
and a test keeps the two in sync.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from eksctl_ml.config.models import EnvConfig


def _type_name(annotation: Any) -> str:
    text = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    return text.replace("typing.", "").replace("eksctl_ml.config.models.", "").replace("NoneType", "None")


def _default(field: Any) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()
    else:
        return "**required**"
    if isinstance(value, BaseModel):
        return "(section)"
    return f"`{json.dumps(value, default=str)}`"


def rows(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = field.annotation
        nested = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        if nested is not None:
            out.append((path, "section", _default(field), field.description or ""))
            out.extend(rows(nested, f"{path}."))
        else:
            out.append((path, _type_name(annotation), _default(field), field.description or ""))
    return out


def markdown() -> str:
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for path, kind, default, meaning in rows(EnvConfig):
        lines.append(f"| `{path}` | {kind.replace('|', '&#124;')} | {default.replace('|', '&#124;')} | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
