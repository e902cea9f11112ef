"""The web chat: a Gradio app over QABot, served on 127.0.0.1 by default."""

from __future__ import annotations

import gradio as gr

from qa_bot.api import QABot
from qa_bot.errors import QABotError


def _history(messages: list) -> list[dict]:
    return [{"role": m["role"], "content": m["content"]} for m in messages if isinstance(m.get("content"), str)]


def build_app(bot: QABot) -> gr.Blocks:
    def respond(message: str, history: list):
        try:
            answer = bot.ask(message, history=_history(history))
        except QABotError as exc:
            return str(exc)
        lines = [answer.text]
        for c in answer.citations:
            lines.append(f"\n[{c.n}] {c.title}: “{c.sentence}”")
        return "\n".join(lines)

    with gr.Blocks(title="qa-bot") as app:
        gr.Markdown("# qa-bot\nAsk about the indexed articles; every answer cites its passages.")
        gr.ChatInterface(respond)
    return app


def serve(bot: QABot, host: str = "127.0.0.1", port: int = 7860) -> None:
    build_app(bot).launch(server_name=host, server_port=port, show_error=True)
