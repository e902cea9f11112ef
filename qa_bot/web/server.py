"""One server for the chat page and the OpenAI-compatible API: FastAPI with Gradio mounted on it,
run by uvicorn on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

from qa_bot.api import QABot
from qa_bot.errors import InputError, QABotError
from qa_bot.web.auth import Credentials, LoginGuard, api_guard
from qa_bot.web.uploads import PartNames, UploadFolder


_SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"]
_MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]


_PAGE_JS = (Path(__file__).with_name("page.js")).read_text(encoding="utf-8")


def _theme(gr):
    """Gradio's Soft theme with system fonts (the default ones come from a font CDN an offline
    machine cannot reach) and labels dark enough for WCAG AA (4.5:1) on their tinted pills."""
    return gr.themes.Soft(font=_SYSTEM_FONTS, font_mono=_MONO_FONTS).set(
        block_title_text_color="*primary_700", block_label_text_color="*primary_700",
    )


def _browser_secret(index_dir: Path) -> str:
    """The key the page's saved conversations are encrypted with, kept beside the index so they
    stay readable after a restart (Gradio would pick a new one each time)."""
    path = index_dir / ".web-secret"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        index_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(24)
        path.write_text(secret, encoding="utf-8")
        path.chmod(0o600)
        return secret


def upload_folder(bot: QABot) -> UploadFolder:
    """Uploads live beside the index they were added to."""
    s = bot.settings
    return UploadFolder(
        Path(s.index_dir) / "uploads", max_bytes=int(s.upload_max_mb * 2**20), quota_bytes=int(s.upload_quota_mb * 2**20)
    )


def is_loopback(host: str | None) -> bool:
    try:
        return bool(host) and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _same_origin(origin: str, host: str) -> bool:
    """A browser names the page that sent a request in `Origin`; only this server's own page may upload."""
    return urlsplit(origin).netloc.lower() == host.lower()


class UploadGuard:
    """ASGI middleware in front of Gradio's upload route, which takes any file from anyone before
    a handler sees it: without a login only loopback clients may upload, never another site's
    page (a browser's cross-origin form post needs no preflight), and never past the quota.
    Uploads left unadded are swept on the way."""

    def __init__(self, app, uploads: UploadFolder, keep_seconds: float, open_to_network: bool):
        self.app = app
        self.uploads = uploads
        self.keep_seconds = keep_seconds
        self.open_to_network = open_to_network

    async def __call__(self, scope, receive, send):
        if not (scope["type"] == "http" and scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/upload")):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal:
            await _plain(send, *refusal)
            return
        # the type of each file is known from its part's headers, before any of its bytes: a file
        # that could never be added is not stored at all; Gradio sees the client hang up instead
        headers = dict(scope.get("headers", []))
        names = PartNames(headers.get(b"content-type", b"").decode("latin-1"))
        wrong: list[tuple[int, str]] = []

        started: list[bool] = []

        async def read():
            if wrong:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                refusal = self._type_refusal(names, message.get("body", b""))
                if refusal:
                    wrong.append(refusal)
                    return {"type": "http.disconnect"}
            return message

        async def answer(message):
            if not wrong:  # once refused, the refusal below is the response
                started.append(True)
                await send(message)

        try:
            await self.app(scope, read, answer)
        except Exception:
            if not wrong:
                raise
        if wrong and not started:
            await _plain(send, *wrong[0])

    def _type_refusal(self, names: PartNames, chunk: bytes) -> tuple[int, str] | None:
        """415 and its sentence for a file that can never be added, 400 for headers that never end."""
        try:
            found = names.feed(chunk)
        except ValueError as error:
            return 400, str(error)
        refusal = next((r for r in map(self.uploads.refusal_of_name, found) if r), None)
        return (415, refusal) if refusal else None

    def _refusal(self, scope) -> tuple[int, str] | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        client = (scope.get("client") or (None, None))[0]
        if not self.open_to_network and not is_loopback(client):
            return 403, "Uploads are accepted from this machine only; start the server with --auth to allow others."
        origin = headers.get("origin")
        if origin and not _same_origin(origin, headers.get("host", "")):
            return 403, "Uploads are accepted from this server's own page only."
        self.uploads.sweep(self.keep_seconds)
        try:
            length = int(headers.get("content-length", ""))
        except ValueError:
            return 411, "An upload must say its size (Content-Length)."
        full = self.uploads.room_for(length)
        return (413, full) if full else None


async def _plain(send, status: int, message: str) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": message.encode()})


def create_app(bot: QABot, auth: Credentials | None = None):
    """The FastAPI app: /v1/* first, then the Gradio page on /. Only Gradio's own upload cache is
    a served folder (no `allowed_paths`), and it lives inside the uploads folder. With `auth`, the
    page asks for the user and password and /v1 for the password as its API key."""
    uploads = upload_folder(bot)
    uploads.reset()
    # Gradio reads this when it stores an upload: always our incoming folder, whatever the
    # environment says, since only files found there can be added
    os.environ["GRADIO_TEMP_DIR"] = str(uploads.incoming)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr
    from fastapi import Depends, FastAPI

    from qa_bot.web.app import answerer_choices, build_app
    from qa_bot.web.cards import CSS
    from qa_bot.web.openai_api import openai_router

    app = FastAPI(title="qa-bot", docs_url=None, redoc_url=None, openapi_url=None)
    guard = [Depends(api_guard(auth))] if auth else []
    app.include_router(openai_router(bot, answerer_choices(bot)), dependencies=guard)
    blocks = build_app(bot, uploads, browser_secret=_browser_secret(Path(bot.settings.index_dir)))
    _cross_origin(app, bot.settings.cors_origins)
    app.add_middleware(
        UploadGuard, uploads=uploads, keep_seconds=bot.settings.upload_keep_seconds, open_to_network=auth is not None
    )
    mounted = gr.mount_gradio_app(
        app, blocks, path="/", max_file_size=uploads.max_bytes, allowed_paths=[], css=CSS,
        theme=_theme(gr), footer_links=["api"], show_error=True, ssr_mode=False,
        head=f"<script>{_PAGE_JS}</script>",
        auth=[(auth.user, auth.password)] if auth else None,
    )
    # Gradio checks that a file named in a request was uploaded (is in its upload folder) only
    # once `launch()` has run, which a mounted app never calls; without this, any path is taken
    blocks.has_launched = True
    if auth:
        mounted.add_middleware(LoginGuard, credentials=auth, session_user=_gradio_session(mounted))
    return mounted


def _cross_origin(app, origins: list[str]) -> None:
    """Starlette's CORS middleware on the whole server, which also switches off Gradio's own (that
    one echoes any `localhost:*` origin, or any origin at all behind a proxy, with credentials):
    only the configured origins may read answers, and never with cookies or a login."""
    from starlette.middleware.cors import CORSMiddleware

    app.add_middleware(
        CORSMiddleware, allow_origins=list(origins), allow_credentials=False,
        allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"],
    )


def _gradio_session(app):
    """The user logged in through Gradio's login form for a request, from its session cookie."""
    from gradio.routes import App
    from starlette.routing import Mount

    gradio_app = next(r.app for r in app.routes if isinstance(r, Mount) and isinstance(r.app, App))

    def user(request) -> str | None:
        cookies = request.cookies
        token = cookies.get(f"access-token-{gradio_app.cookie_id}") or cookies.get(
            f"access-token-unsecure-{gradio_app.cookie_id}"
        )
        return gradio_app.tokens.get(token) if token else None

    return user


def _warm_up(bot: QABot) -> None:
    """Loads the embedding model while the page is first opened, so the first answer is quick."""
    try:
        bot.embedder.warm_up()
    except (QABotError, OSError):
        pass  # the first question reports it as a user error


def check_port_free(host: str, port: int) -> None:
    """A busy port is one sentence before anything claims to serve (uvicorn would print Errno 98)."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise InputError(
            f"Cannot serve on {host}:{port} ({exc.strerror or exc}); choose another port with --port "
            f"(with make: make run PORT={port + 1})."
        ) from None


def serve(bot: QABot, host: str = "127.0.0.1", port: int = 7860, auth: Credentials | None = None) -> None:
    import uvicorn

    check_port_free(host, port)
    app = create_app(bot, auth)
    if not auth and not is_loopback(host):
        print(
            f"qa-bot: warning: serving on {host} without --auth; anyone who can reach this port can read "
            "and remove articles; only this machine can add them (see docs/RELIABILITY.md, 'Exposing the server').",
            file=sys.stderr, flush=True,
        )
    threading.Thread(target=_warm_up, args=(bot,), name="qa-bot-warm-up", daemon=True).start()
    print(f"qa-bot: chat on http://{host}:{port}/  OpenAI API on http://{host}:{port}/v1", file=sys.stderr, flush=True)
    # a short grace period: open keep-alive and event-stream connections must not hold up Ctrl-C
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
