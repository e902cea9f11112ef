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
