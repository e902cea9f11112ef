"""One user name and password for the whole server (`qa-bot serve --auth user:password` or
$QA_BOT_AUTH): Gradio's login guards the page and its API; the same password guards /v1, sent
the way API clients send keys (`Authorization: Bearer PASSWORD`, i.e. the OpenAI client's
api_key) or as HTTP Basic. Meant for a small team behind TLS, not as a user directory."""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

from qa_bot.errors import InputError


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str

    @classmethod
    def parse(cls, value: str) -> Credentials:
        user, sep, password = value.partition(":")
        if not sep or not user or not password:
            raise InputError("--auth expects USER:PASSWORD, both non-empty.")
        return cls(user, password)

    def accepts(self, authorization: str) -> bool:
        """True when an Authorization header carries this password (Bearer) or user and password (Basic)."""
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            return secrets.compare_digest(value.encode(), self.password.encode())
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            same_user = secrets.compare_digest(user.encode(), self.user.encode())
            return same_user & secrets.compare_digest(password.encode(), self.password.encode())
        return False


def api_guard(credentials: Credentials):
    """A FastAPI dependency refusing /v1 requests without the password, OpenAI-style."""

    def check(request: Request) -> None:
        if not credentials.accepts(request.headers.get("authorization", "")):
            raise HTTPException(
                status_code=401,
                detail={"error": {"message": "A valid API key (the server's --auth password) is required.",
                                  "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}},
                headers={"WWW-Authenticate": 'Bearer realm="qa-bot", Basic realm="qa-bot"'},
            )

    return check


# Gradio routes that answer without its login check: the API description, the queue's reset and
# cancel (which act on other people's events by id), the heartbeat, streams, app id and runs. So
# everything under /gradio_api/ needs the login but what the login screen itself uses.
LOGIN_ONLY = frozenset({"/openapi.json"})
LOGIN_PREFIX = "/gradio_api/"
OPEN_TO_ALL = frozenset({
    "/gradio_api/login_check",  # says 401 to a visitor, which makes the page show the login form
    "/gradio_api/theme.css",
    "/gradio_api/token",  # echoes the caller's own cookie
    "/gradio_api/startup-events",  # the server calls it on itself at start; it runs once
})


def needs_login(path: str) -> bool:
    path = path.rstrip("/") or "/"
    return path in LOGIN_ONLY or (path.startswith(LOGIN_PREFIX) and path not in OPEN_TO_ALL)


class LoginGuard:
    """ASGI middleware asking for the login on the Gradio routes that do not check it themselves:
    a session cookie Gradio's login issued (`session_user`), or the credentials in an Authorization
    header. Everything the login screen needs stays open."""

    def __init__(self, app, credentials: Credentials, session_user):
        self.app = app
        self.credentials = credentials
        self.session_user = session_user

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and needs_login(scope["path"]):
            request = Request(scope)
            if not (self.session_user(request) or self.credentials.accepts(request.headers.get("authorization", ""))):
                response = JSONResponse({"detail": "Not authenticated"}, status_code=401)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
