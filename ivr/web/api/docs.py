"""The operator API's OpenAPI document made readable by people: each
operation with its method, path, summary, who may call it, its parameters,
what it reads and what it answers; each schema as a list of fields. Drawn
from the same document `/api/v1/openapi.json` serves, so the two cannot
disagree; rendered on the server (no script, nothing fetched from elsewhere).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

REF_PREFIX = "#/components/schemas/"

# A type as words, some of them schema names to link: (text, schema name or "").
Words = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Field:
    name: str
    type: Words
    required: bool
    notes: tuple[str, ...]  # description, limits, default, examples


@dataclass(frozen=True)
class Schema:
    name: str
    description: str
    fields: tuple[Field, ...]
    type: Words  # for a schema that is not an object


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # path, query
    required: bool
    type: Words
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    type: Words  # empty: no body


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    anchor: str
    parameters: tuple[Parameter, ...]
    body: Words
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Group:
    tag: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class ApiDocs:
    title: str
    version: str
    description: str
    auth: tuple[str, ...]
    groups: tuple[Group, ...]
    schemas: tuple[Schema, ...]


def readable(document: dict[str, Any]) -> ApiDocs:
    info = document.get("info", {})
    components = document.get("components", {})
    groups: dict[str, list[Operation]] = {}
    for path, methods in document.get("paths", {}).items():
        for method, operation in methods.items():
            described = _operation(path, method, operation)
            tag = (operation.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(described)
    auth = tuple(
        f"{scheme.get('scheme', scheme.get('type', name)).title()}: "
        f"{scheme.get('description', '')}".strip()
        for name, scheme in components.get("securitySchemes", {}).items()
    )
    return ApiDocs(
        title=str(info.get("title", "API")),
        version=str(info.get("version", "")),
        description=str(info.get("description", "")),
        auth=auth,
        groups=tuple(Group(tag, tuple(ops)) for tag, ops in groups.items()),
        schemas=tuple(
            _schema(name, schema) for name, schema in sorted(components.get("schemas", {}).items())
        ),
    )


def _operation(path: str, method: str, operation: dict[str, Any]) -> Operation:
    parameters = tuple(
        Parameter(
            name=str(p.get("name", "")),
            where=str(p.get("in", "")),
            required=bool(p.get("required", False)),
            type=type_words(p.get("schema", {})),
            notes=_notes(p.get("schema", {}), p.get("description")),
        )
        for p in operation.get("parameters", [])
    )
    body_content = operation.get("requestBody", {}).get("content", {})
    body = _content_type(body_content)
    answers = tuple(
        Answer(str(code), str(answer.get("description", "")), _content_type(answer.get("content")))
        for code, answer in operation.get("responses", {}).items()
    )
    anchor = str(operation.get("operationId") or f"{method}-{path}")
    return Operation(
        method=method.upper(),
        path=path,
        summary=str(operation.get("summary", "")),
        description=str(operation.get("description", "")),
        anchor=anchor,
        parameters=parameters,
        body=body,
        answers=answers,
    )


def _content_type(content: dict[str, Any] | None) -> Words:
    if not content:
        return ()
    json_body = content.get("application/json") or next(iter(content.values()))
    return type_words(json_body.get("schema", {}))


def _schema(name: str, schema: dict[str, Any]) -> Schema:
    required = set(schema.get("required", []))
    fields = tuple(
        Field(
            name=str(field_name),
            type=type_words(prop),
            required=field_name in required,
            notes=_notes(prop, prop.get("description")),
        )
        for field_name, prop in schema.get("properties", {}).items()
    )
    is_object = schema.get("type") == "object" or "properties" in schema
    return Schema(
        name=name,
        description=str(schema.get("description", "")),
        fields=fields,
        type=() if is_object else type_words(schema),
    )


def type_words(schema: dict[str, Any]) -> Words:
    """A JSON schema's type as words: "string (date-time)", "list of Counselor",
    "integer or null", "one of "a", "b"" — schema names kept for links."""
    if not isinstance(schema, dict) or not schema:
        return (("any", ""),)
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        name = ref[len(REF_PREFIX) :]
        return ((name, name),)
    for combiner in ("anyOf", "oneOf"):
        choices = schema.get(combiner)
        if isinstance(choices, list):
            return _either([type_words(choice) for choice in choices])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return type_words(schema["allOf"][0])
    if "enum" in schema:
        values = ", ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
        return ((f"one of {values}", ""),)
    if "const" in schema:
        return ((json.dumps(schema["const"], ensure_ascii=False), ""),)
    kind = schema.get("type")
    if isinstance(kind, list):
        return _either([type_words({**schema, "type": k}) for k in kind])
    if kind == "array":
        return (("list of ", ""), *type_words(schema.get("items", {})))
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return (("map of names to ", ""), *type_words(extra))
        return (("object", ""),)
    if kind is None:
        return (("any", ""),)
    text = str(kind)
    if schema.get("format"):
        text += f" ({schema['format']})"
    return ((text, ""),)


def _either(choices: list[Words]) -> Words:
    nullable = (("null", ""),) in choices
    kept = [choice for choice in choices if choice != (("null", ""),)]
    words: list[tuple[str, str]] = []
    for index, choice in enumerate(kept):
        if index:
            words.append((" or ", ""))
        words.extend(choice)
    if nullable:
        words.append((" or null", "") if words else ("null", ""))
    return tuple(words) or (("any", ""),)


def _notes(schema: dict[str, Any], description: object = None) -> tuple[str, ...]:
    """What else a field's schema says, in words: its description, limits,
    default and examples (looking inside "X or null")."""
    notes: list[str] = []
    if description:
        notes.append(str(description))
    for part in [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]:
        if not isinstance(part, dict):
            continue
        if part is not schema and part.get("description") and not description:
            notes.append(str(part["description"]))
        notes.extend(_limits(part))
    if "default" in schema and schema["default"] is not None:
        notes.append(f"default {json.dumps(schema['default'], ensure_ascii=False)}")
    return tuple(dict.fromkeys(notes))


def _limits(schema: dict[str, Any]) -> list[str]:
    found: list[str] = []
    low, high = schema.get("minLength"), schema.get("maxLength")
    if low is not None or high is not None:
        found.append(_range(low, high, "characters"))
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None or high is not None:
        found.append(_range(low, high, ""))
    low, high = schema.get("minItems"), schema.get("maxItems")
    if low is not None or high is not None:
        found.append(_range(low, high, "items"))
    if schema.get("pattern"):
        found.append(f"matches {schema['pattern']}")
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        shown = ", ".join(json.dumps(e, ensure_ascii=False) for e in examples[:3])
        found.append(f"for example {shown}")
    return found


def _range(low: object, high: object, unit: str) -> str:
    unit = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{low} to {high}{unit}"
    if low is not None:
        return f"at least {low}{unit}"
    return f"at most {high}{unit}"
