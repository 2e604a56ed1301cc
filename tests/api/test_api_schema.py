"""The OpenAPI document kept true: schemathesis generates requests from it
for every operation (with an admin's token, so writes run too) and checks
that no answer is a 500 and every answer matches the documented schema,
status code and content type.

The schema is built from the same declarations the app serves (importing the
routes registers them); each test points it at that test's own app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import checks

from ivr.operators.accounts import Accounts
from ivr.web.api.registry import openapi_document
from ivr.web.api.routes import PREFIX, VERSION
from tests.rosters import store_always_on_call

if TYPE_CHECKING:
    # An alias schemathesis defines for type checking only: the operations of an
    # OpenAPI schema such as from_dict's.
    from schemathesis.specs.openapi.schemas import OpenApiOperation

schema = schemathesis.openapi.from_dict(openapi_document(PREFIX, VERSION))

# Left out, on purpose: whether schema-valid data is accepted (the roster's
# own rules, such as "that counselor exists" or "a shift cannot end when it
# starts", are beyond what a schema can say; they answer 422 naming the field)
# and whether a query's text is read leniently ("0.5" as a time).
NOT_SCHEMA_RULES = [checks.positive_data_acceptance, checks.negative_data_rejection]


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_to_its_document(
    case: schemathesis.Case[OpenApiOperation], app: Flask
) -> None:
    line = app.extensions["helpline"]
    if not line.redis.exists("helpline:roster"):
        store_always_on_call(line.redis)
    token = Accounts(line.redis).create_token("fuzz", "admin")[1]
    case.operation.schema.app = app
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, app=app, excluded_checks=NOT_SCHEMA_RULES
    )


def test_the_served_document_is_the_one_fuzzed(app: Flask) -> None:
    served = app.test_client().get(PREFIX + "/openapi.json").get_json()
    assert served == openapi_document(PREFIX, VERSION)
