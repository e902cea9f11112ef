"""One server for the chat page and the OpenAI-compatible API: FastAPI with Gradio mounted on it,
run by uvicorn on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from qa_bot.api import QABot
from qa_bot.errors import QABotError
from qa_bot.web.auth import Credentials, api_guard
from qa_bot.web.uploads import MAX_UPLOAD_BYTES, UploadFolder


# system fonts: the default theme fonts come from a font CDN, which an offline machine cannot reach
_SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"]
_MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]


def upload_folder(bot: QABot) -> UploadFolder:
    """Uploads live beside the index they were added to."""
    return UploadFolder(Path(bot.settings.index_dir) / "uploads")


def create_app(bot: QABot, auth: Credentials | None = None):
    """The FastAPI app: /v1/* first, then the Gradio page on /. Only Gradio's own upload cache is
    a served folder (no `allowed_paths`), and it lives inside the uploads folder. With `auth`, the
    page asks for the user and password and /v1 for the password as its API key."""
    uploads = upload_folder(bot)
    # Gradio reads this when it stores an upload; set before it is imported so nothing lands in /tmp.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(uploads.root / ".incoming"))
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr
    from fastapi import Depends, FastAPI

    from qa_bot.web.app import answerer_choices, build_app
    from qa_bot.web.cards import CSS
    from qa_bot.web.openai_api import openai_router

    app = FastAPI(title="qa-bot", docs_url=None, redoc_url=None, openapi_url=None)
    guard = [Depends(api_guard(auth))] if auth else []
    app.include_router(openai_router(bot, answerer_choices(bot)), dependencies=guard)
    blocks = build_app(bot, uploads)
    return gr.mount_gradio_app(
        app, blocks, path="/", max_file_size=MAX_UPLOAD_BYTES, allowed_paths=[], css=CSS,
        theme=gr.themes.Soft(font=_SYSTEM_FONTS, font_mono=_MONO_FONTS), footer_links=["api"], show_error=True, ssr_mode=False,
        auth=[(auth.user, auth.password)] if auth else None,
    )


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _warm_up(bot: QABot) -> None:
    """Loads the embedding model while the page is first opened, so the first answer is quick."""
    try:
        bot.embedder.model
    except (QABotError, OSError):
        pass  # the first question reports it as a user error


def serve(bot: QABot, host: str = "127.0.0.1", port: int = 7860, auth: Credentials | None = None) -> None:
    import uvicorn

    app = create_app(bot, auth)
    if not auth and host not in _LOOPBACK:
        print(
            f"qa-bot: warning: serving on {host} without --auth; anyone who can reach this port can read, add "
            "and remove articles (see docs/RELIABILITY.md, 'Exposing the server').",
            file=sys.stderr, flush=True,
        )
    threading.Thread(target=_warm_up, args=(bot,), name="qa-bot-warm-up", daemon=True).start()
    print(f"qa-bot: chat on http://{host}:{port}/  OpenAI API on http://{host}:{port}/v1", file=sys.stderr, flush=True)
    # a short grace period: open keep-alive and event-stream connections must not hold up Ctrl-C
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
