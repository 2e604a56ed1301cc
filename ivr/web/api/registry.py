"""How an API operation is declared once and then served, checked and
described from that one declaration: its path, who may call it, what it reads
and what it returns. `endpoint` registers the Flask view (auth, parsing,
serialising, errors); `openapi_document` writes the OpenAPI 3.1 document from
the same list, so the document cannot describe an operation that does not exist
or forget one that does."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import models_json_schema

from ivr.roster.parse import RosterError
from ivr.web.api.schemas import Error, FieldError

# viewer: any operator's token reads it; admin: only an admin's changes it;
# counselor: a counselor's token (their own work) or an admin's.
# anyone: every valid token, but a counselor's gets only its own work and what
# is offered to it: the handler narrows the answer, and its `scope` says how.
ROLES = ("viewer", "admin", "counselor", "anyone")
JSON = "application/json"


class ApiError(Exception):
    """An answer other than success: status, a stable code, a message for people."""

    def __init__(
        self, status: int, code: str, message: str, fields: list[FieldError] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []

    def response(self) -> Response:
        fields = [f.model_dump() for f in self.fields]
        answer = jsonify({"error": {"code": self.code, "message": self.message, "fields": fields}})
        answer.status_code = self.status
        if self.status == 401:
            answer.headers["WWW-Authenticate"] = 'Bearer realm="helpline"'
        return answer


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI style, relative to the blueprint: /counselors/{counselor_id}
    name: str
    summary: str
    tag: str
    role: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any  # a model, list[model], or None for 204
    status: int
    errors: tuple[int, ...]
    # Not JSON (text/csv, say): the handler answers a Response of that type
    # itself (streamed, perhaps), described as text; its errors are still JSON.
    media_type: str = JSON
    scope: str = ""  # role "anyone": what a counselor's token gets of the answer

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def error_statuses(self) -> list[int]:
        # 403 everywhere: a counselor's token reaches only the desk's operations.
        found = {401, 403, 503, *self.errors}
        if self.body is not None:
            found |= {400, 413, 422}
        if self.query is not None:
            found.add(422)
        if self.path_params:
            found.add(404)
        return sorted(found)


OPERATIONS: list[Operation] = []
Handler = TypeVar("Handler", bound=Callable[..., Any])
Authenticate = Callable[[str], Any]  # role needed -> the operator, or raises ApiError


def endpoint(
    blueprint: Blueprint,
    authenticate: Authenticate,
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    role: str = "viewer",
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    media_type: str = JSON,
    scope: str = "",
) -> Callable[[Handler], Handler]:
    """Declare an operation. The handler gets the operator, the path
    parameters, and `body`/`query` (validated models) when declared. With a
    MEDIA_TYPE other than JSON, the handler returns the Flask Response itself.
    An operation for "anyone" says in SCOPE what a counselor's token gets
    (the handler narrows it so): the document states it beside the role."""
    assert role in ROLES
    assert (role == "anyone") == bool(scope), "scope: what a counselor's token gets, for anyone"

    def register(handler: Handler) -> Handler:
        operation = Operation(
            method.upper(), path, handler.__name__, summary, tag, role, body, query,
            response, status, errors, media_type, scope,
        )  # fmt: skip
        OPERATIONS.append(operation)
        dump = TypeAdapter(response) if response is not None and media_type == JSON else None

        def view(**params: str) -> Response:
            # Answers name counselors and callers' references: no shared cache keeps them.
            answer = answered(**params)
            answer.headers["Cache-Control"] = "no-store"
            return answer

        def answered(**params: str) -> Response:
            try:
                operator = authenticate(role)
                arguments: dict[str, Any] = dict(params)
                if query is not None:
                    arguments["query"] = _parse(query, request.args.to_dict(flat=True), "query")
                if body is not None:
                    arguments["body"] = _parse(body, _json_body(), "body", json=True)
                result = handler(operator, **arguments)
            except ApiError as error:
                return error.response()
            except redis.RedisError:
                return ApiError(
                    503, "store_unreachable", "Redis is unreachable; try again"
                ).response()
            except RosterError as error:
                # The stored roster no longer validates: say so, never a 500.
                message = f"the stored roster does not validate: {error}"
                return ApiError(503, "roster_invalid", message).response()
            if media_type != JSON:
                assert isinstance(result, Response)
                result.status_code = status
                return result
            if dump is None:
                return Response(status=204)
            answer = jsonify(dump.dump_python(result, mode="json"))
            answer.status_code = status
            return answer

        rule = re.sub(r"{(\w+)}", r"<\1>", path)
        blueprint.add_url_rule(rule, handler.__name__, view, methods=[method.upper()])
        return handler

    return register


def _json_body() -> bytes:
    if not request.is_json:
        raise ApiError(400, "not_json", "send a JSON body with Content-Type: application/json")
    if request.get_json(silent=True) is None:
        raise ApiError(400, "bad_json", "the body is not valid JSON")
    return request.get_data()


def _parse(model: type[BaseModel], data: Any, where: str, json: bool = False) -> BaseModel:
    try:
        # JSON bodies in JSON mode: strict types, with dates still read from ISO text.
        return model.model_validate_json(data) if json else model.model_validate(data)
    except ValidationError as error:
        fields = [
            FieldError(
                field=".".join(str(part) for part in problem["loc"]) or where,
                message=problem["msg"],
            )
            for problem in error.errors(include_url=False, include_input=False)
        ]
        names = ", ".join(sorted({f.field for f in fields}))
        raise ApiError(422, "invalid", f"check the {where}: {names}", fields) from None


# -- the document ---------------------------------------------------------------

_REF = "#/components/schemas/{model}"


def openapi_document(prefix: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of every declared operation."""
    models: list[tuple[type[BaseModel], Any]] = [(Error, "serialization")]
    for operation in OPERATIONS:
        if operation.body is not None:
            models.append((operation.body, "validation"))
        model = _model_of(operation.response) if operation.media_type == JSON else None
        if model is not None:
            models.append((model, "serialization"))
    refs, definitions = models_json_schema(list(dict.fromkeys(models)), ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(prefix + operation.path, {})[operation.method.lower()] = _operation(
            operation, refs
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Helpline operator API",
            "version": version,
            "description": "Roster, on-call, live calls, voicemail, callbacks, figures "
            "and opt-outs. Callers' numbers are masked. Viewers read; admins change. "
            "A counselor's token reaches only the desk: its own conversations, contacts "
            "and wrap-ups, and what is offered to it. Every change is audited.",
        },
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `helpline token create NAME`.",
                }
            },
        },
    }


def _model_of(response: Any) -> type[BaseModel] | None:
    if response is None:
        return None
    if isinstance(response, type) and issubclass(response, BaseModel):
        return response
    (inner,) = getattr(response, "__args__", (None,))
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


def _operation(operation: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": operation.name,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in operation.path_params
        ],
        "responses": {},
    }
    if operation.role == "admin":
        described["description"] = "Admins only."
    elif operation.role == "counselor":
        described["description"] = "A counselor's token (their own work) or an admin's."
    elif operation.role == "anyone":
        described["description"] = (
            f"Any token. A viewer's or an admin's gets everything; {operation.scope}"
        )
    if operation.query is not None:
        schema = operation.query.model_json_schema(ref_template=_REF)
        for name, prop in schema.get("properties", {}).items():
            described["parameters"].append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in schema.get("required", []),
                    "schema": {k: v for k, v in prop.items() if k != "title"},
                }
            )
    if operation.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(operation.body, "validation")]}},
        }
    responses = described["responses"]
    model = _model_of(operation.response)
    if operation.media_type != JSON:
        responses[str(operation.status)] = {
            "description": "OK",
            "content": {operation.media_type: {"schema": {"type": "string"}}},
        }
    elif operation.response is None:
        responses[str(operation.status)] = {"description": "Done."}
    else:
        assert model is not None
        schema = refs[(model, "serialization")]
        if model is not operation.response:
            schema = {"type": "array", "items": schema}
        responses[str(operation.status)] = {
            "description": "OK",
            "content": {"application/json": {"schema": schema}},
        }
    for status in operation.error_statuses:
        responses[str(status)] = {
            "description": _ERROR_TEXT[status],
            "content": {"application/json": {"schema": refs[(Error, "serialization")]}},
        }
    return described


_ERROR_TEXT = {
    400: "The body is not JSON.",
    401: "No token, or not a valid one.",
    403: "The token's role may not do this.",
    404: "No such thing.",
    409: "Conflicts with the roster as it is now.",
    413: "The body is too large.",
    422: "A field is wrong; each is named.",
    503: "The line's store is unreachable; try again.",
}
