"""The playground's web application (Starlette): the page, its static assets and the JSON API.

Every answer, error or not, is JSON with a message and, for text, a line and column — never a
traceback. Request bodies are read up to a size limit; computations run in worker processes under
a time limit (:mod:`matcalc.web.workers`). The page loads nothing from another host: the Content
Security Policy sent with it allows this server only.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matcalc.errors import MatcalcError, RequestError, TimeLimitError, WorkerError, caret

from .examples import EXAMPLES
from .schema import ENDPOINTS, parse_request
from .workers import Limits, WorkerPool

log = logging.getLogger("matcalc.web")
STATIC = Path(__file__).resolve().parent / "static"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY")]


@dataclass(frozen=True)
class Settings:
    """What `matcalc serve` configures: the limits, the request size, the hosts accepted."""

    limits: Limits = field(default_factory=Limits)
    max_request_bytes: int = 64 * 1024
    allowed_hosts: tuple[str, ...] = LOOPBACK  # Host headers accepted ("*": any)
    on_ready: Callable[[], None] | None = None  # called once the workers are running


class Guard:
    """Refuses requests whose Host is not this server's (so that a page on another site cannot
    reach it by rebinding a DNS name to 127.0.0.1), and adds the security headers (CSP, nosniff,
    no referrer, no framing) to every response."""

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...]):
        self.app, self.allowed_hosts = app, allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        host = Headers(scope=scope).get("host", "")
        if "*" not in self.allowed_hosts and _hostname(host) not in self.allowed_hosts:
            response = error_response(400, f"this server answers requests for "
                                           f"{', '.join(self.allowed_hosts)}, not {host[:100]!r}")
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def _hostname(host: str) -> str:
    """``127.0.0.1:8000`` → ``127.0.0.1``; ``[::1]:8000`` → ``[::1]``."""
    if host.startswith("["):
        return host[:host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def error_response(status: int, message: str, kind: str = "RequestError", **extra: Any
                   ) -> JSONResponse:
    """A JSON error: ``{"error": {"type", "message", "field", ...}}``."""
    body = {"type": kind, "message": message, "field": None, **extra}
    return JSONResponse({"error": body}, status_code=status)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past ``limit`` bytes (announced or actually sent)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise RequestError(f"send the request as JSON (Content-Type: application/json), not "
                           f"{kind or 'without a content type'}", status=415)
    announced = request.headers.get("content-length")
    too_large = RequestError(f"the request is larger than {limit:,} bytes", status=413)
    if announced is not None and announced.isdigit() and int(announced) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def api_endpoint(name: str, pool: WorkerPool, settings: Settings
                 ) -> Callable[[Request], Awaitable[Response]]:
    """The handler of POST /api/{name}: read, check the form, compute in a worker, answer."""
    async def endpoint(request: Request) -> Response:
        try:
            req = parse_request(await read_body(request, settings.max_request_bytes), name)
            status, body = await pool.run(name, req)
        except RequestError as exc:
            return error_response(exc.status, exc.message, field=exc.field,
                                  **_position(exc))
        except TimeLimitError as exc:
            return error_response(504, exc.message, "TimeLimitError")
        except WorkerError as exc:
            return error_response(500, exc.message, "WorkerError")
        if name == "post" and status == 200:
            return Response(body["markdown"], media_type="text/markdown; charset=utf-8",
                            headers={"content-disposition":
                                     f'attachment; filename="{body["filename"]}"'})
        return JSONResponse(body, status_code=status)
    return endpoint


def _position(exc: MatcalcError) -> dict[str, Any]:
    """Line, column and the line with a caret, for an error in the request's text."""
    if exc.line is None or exc.column is None:
        return {}
    out: dict[str, Any] = {"line": exc.line, "column": exc.column}
    if exc.source is not None:
        out["excerpt"] = caret(exc.source, exc.line, exc.column).lstrip("\n")
    return out


def create_app(settings: Settings | None = None) -> Starlette:
    """The playground as an ASGI application (its workers start with the application)."""
    settings = settings or Settings()
    pool = WorkerPool(settings.limits)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await pool.open()
        if settings.on_ready is not None:
            settings.on_ready()
        try:
            yield
        finally:
            pool.close()

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-cache"})

    async def examples(request: Request) -> Response:
        return JSONResponse({"examples": EXAMPLES})

    async def status(request: Request) -> Response:
        limits = settings.limits
        return JSONResponse({**pool.status(), "time_limit": limits.time_limit,
                             "memory_limit_mib": limits.memory_limit,
                             "max_request_bytes": settings.max_request_bytes})

    routes: list[BaseRoute] = [Route("/", index), Route("/api/examples", examples),
                               Route("/api/status", status)]
    routes += [Route(f"/api/{name}", api_endpoint(name, pool, settings), methods=["POST"])
               for name in ENDPOINTS]
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    middleware = [Middleware(Guard, allowed_hosts=settings.allowed_hosts)]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                     exception_handlers={HTTPException: _http_error, Exception: _internal_error})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: f"nothing at {request.url.path}",
               405: f"{request.method} is not accepted at {request.url.path}"}.get(
        exc.status_code, str(exc.detail))
    return error_response(exc.status_code, message)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("internal error at %s", request.url.path, exc_info=exc)
    return error_response(500, f"internal error ({type(exc).__name__}); the server's log has "
                               f"the details", "InternalError")
