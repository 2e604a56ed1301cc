"""The operator JSON API under /api/v1: errors there are JSON, never HTML."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ivr.web.api import (  # noqa: F401 - their operations join the blueprint
    blocklist_routes,
    desk_routes,
    jobs_routes,
)
from ivr.web.api.routes import PREFIX, api

__all__ = ["api", "install_json_errors"]


def install_json_errors(app: Flask) -> None:
    """404, 405 and 413 under the API prefix answer in the API's error shape
    (routing errors happen before any blueprint handler could)."""

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> HTTPException | Response:
        if not request.path.startswith(PREFIX + "/"):
            return error
        code = (error.name or "error").lower().replace(" ", "_")
        body = {"error": {"code": code, "message": error.description or "", "fields": []}}
        answer = jsonify(body)
        answer.status_code = error.code or 500
        for name, value in error.get_headers():  # Allow on a 405, say
            if name.lower() != "content-type":
                answer.headers[name] = value
        return answer
