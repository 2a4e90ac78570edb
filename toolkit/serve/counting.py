"""Every response counted in /metrics, and every error answered as JSON with a code.

A plain ASGI middleware rather than FastAPI's `@app.middleware("http")`: an exception that escapes a
route passes through it before Starlette turns it into a bare-text 500, so here it becomes a
counted JSON 500 `internal` instead. Routes are named by their path template, the documentation's
routes (/docs, /openapi.json) too, which FastAPI adds without naming themselves in the request scope.
"""

from __future__ import annotations

import logging
import time

from fastapi.responses import JSONResponse
from starlette.routing import Match

logger = logging.getLogger(__name__)

UNMATCHED = "unmatched"  # the route label of a path no route serves (404)
ERROR_CODE = "toolkit.error_code"  # where error_response leaves its code in the request's state


def error_json(status: int, code: str, message: str) -> JSONResponse:
    """The one shape of every error: {"error": {"code", "message"}}."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def route_of(scope) -> str:
    """The path template of the route that serves (or, for 405, has) this path; UNMATCHED where none does."""
    for route in scope["app"].router.routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            return getattr(route, "path", UNMATCHED)
    return UNMATCHED


class CountResponses:
    """ASGI middleware: count each HTTP response by route and status (errors by code too), time it, and answer
    an exception that escaped the app with a JSON 500 `internal`."""

    def __init__(self, app, metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status: list[int] = []
        state = scope.setdefault("state", {})  # one dict, shared with every copy of the scope the router makes

        async def send_counted(message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        except Exception as error:  # noqa: BLE001 - any failure still gets an answer and a count
            logger.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if status:  # the response had begun: nothing more can be sent on it
                raise
            status.append(500)
            state[ERROR_CODE] = "internal"
            await error_json(500, "internal", f"the server failed on this request ({type(error).__name__}); "
                                              "retry, and report it if it persists.")(scope, receive, send)
        finally:
            self.count(route_of(scope), status[0] if status else 500, state.get(ERROR_CODE),
                       time.perf_counter() - started)

    def count(self, route: str, status: int, code: str | None, seconds: float) -> None:
        self.metrics.requests.labels(route, str(status)).inc()
        self.metrics.latency.labels(route).observe(seconds)
        if status >= 400:
            self.metrics.errors.labels(route, code or f"http_{status}").inc()
