"""JSON Schemas of the catalogue and the check that a change breaks no consumer.

`python -m portal_contracts.schemas` (re)writes the committed files; the contract test
compares the current models with them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from portal_contracts.registry import EVENT_CLASSES

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def schema_file(event_type: str, version: int) -> Path:
    return SCHEMA_DIR / f"{event_type}.v{version}.json"


def current_schemas() -> dict[Path, dict[str, Any]]:
    out = {}
    for name, cls in sorted(EVENT_CLASSES.items()):
        schema = cls.model_json_schema(mode="serialization")
        schema["$id"] = f"urn:portal:event:{name}:v{cls.schema_version}"
        schema["x-context"] = cls.context
        out[schema_file(name, cls.schema_version)] = schema
    return out


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _resolve(root["$defs"][ref.removeprefix("#/$defs/")], root)
    return schema


def _types(schema: dict[str, Any], root: dict[str, Any]) -> set[str]:
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        return set().union(*(_types(s, root) for s in schema["anyOf"]))
    if "const" in schema:
        return {type(schema["const"]).__name__}
    if "enum" in schema:
        return {f"enum:{v}" for v in schema["enum"]}
    kind = schema.get("type", "any")
    fmt = schema.get("format")
    return {f"{kind}:{fmt}" if fmt else str(kind)}


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in `new` would break a consumer written against `old`."""
    problems = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"field {name!r} was removed or renamed")
            continue
        old_t, new_t = _types(old_prop, old), _types(new_prop := new_props[name], new)
        del new_prop
        if not new_t <= old_t and not all(t.startswith("enum:") for t in new_t | old_t):
            problems.append(f"field {name!r} changed type {sorted(old_t)} -> {sorted(new_t)}")
        elif old_t != new_t and all(t.startswith("enum:") for t in old_t) and not (new_t <= old_t):
            problems.append(f"field {name!r} gained values {sorted(new_t - old_t)}")
    added_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(added_required):
        problems.append(f"field {name!r} became required")
    return problems


def write() -> list[Path]:
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for path, schema in current_schemas().items():
        text = json.dumps(schema, indent=2, sort_keys=True) + "\n"
        if not path.exists() or path.read_text() != text:
            if path.exists():
                problems = breaking_changes(json.loads(path.read_text()), schema)
                if problems:
                    raise SystemExit(
                        f"{path.name}: breaking change ({'; '.join(problems)}); "
                        "bump schema_version and add an upcaster"
                    )
            path.write_text(text)
            written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path}", file=sys.stderr)
