"""HTML for one chat answer: the answer, the rewritten question, numbered source cards.

Every piece of article text is escaped here, because articles come from anywhere: a passage holding
`<script>` must show as text, never run. The markup is one line with no blank lines, so the chat's
Markdown renderer passes it through as a single HTML block instead of reading the text as Markdown.
"""

from __future__ import annotations

import re
import uuid
from html import escape
from urllib.parse import quote

from qa_bot.answer.verify import markers
from qa_bot.language.patterns import CITATION_MARKER
from qa_bot.types import Answer, Citation, ScoredChunk

_BREAKS = re.compile(r"\n+")  # a paragraph break shows as one line break: cards stay compact


def with_markers(answer: Answer) -> str:
    """The answer text with its [n] citation markers; appended when the answerer wrote none."""
    text = answer.text.strip()
    if answer.abstained or not answer.citations or CITATION_MARKER.search(text):
        return text
    return text + " " + "".join(f"[{c.n}]" for c in answer.citations)


def _text(value: str) -> str:
    """Escaped text that stays on one line of markup (a blank line would end the HTML block)."""
    return _BREAKS.sub("<br>", escape(value, quote=True).replace("\r", ""))


def _badges(escaped: str, key: str) -> str:
    """Each [n] becomes a link to card n of this answer (the page's script scrolls to it)."""
    return CITATION_MARKER.sub(
        lambda m: "".join(f'<sup><a class="qa-ref" href="#{key}-{n}">{n}</a></sup>' for n in markers(m.group(0))),
        escaped,
    )


def highlighted_passage(citation: Citation) -> str:
    """The passage with its cited sentence in <mark>; offsets are clamped so bad ones still render."""
    text = citation.text
    start = min(max(citation.start - citation.passage_start, 0), len(text))
    end = min(max(citation.end - citation.passage_start, start), len(text))
    return f"{_text(text[:start])}<mark>{_text(text[start:end])}</mark>{_text(text[end:])}"


def _meta(source: str, published, page: int | None = None) -> str:
    meta = [f'<span class="qa-source">{_text(source)}</span>'] if source else []
    if published:
        meta.append(f'<time datetime="{published.isoformat()}">{published:%d %b %Y}</time>')
    if page:
        meta.append(f'<span class="qa-page">p. {page}</span>')
    return f'<div class="qa-meta">{" · ".join(meta)}</div>' if meta else ""


def _open_button(doc_id: str, spans: list[tuple[int, int]]) -> str:
    """A link whose target names the article and the sentences to highlight (the chat's sanitiser
    keeps `href` and drops data attributes); the page's script opens the reader with it."""
    marks = ";".join(f"{start},{end}" for start, end in spans)
    return f'<a class="qa-open" role="button" href="#open:{quote(doc_id, safe="")}|{marks}">Read the article</a>'


def source_card(citation: Citation, key: str = "qa", spans: list[tuple[int, int]] | None = None) -> str:
    """A cited passage; `spans` are every sentence of its article this answer cites, for the reader."""
    return (
        f'<div class="qa-card" id="{key}-{citation.n}">'
        f'<div class="qa-card-head"><span class="qa-n">{citation.n}</span>'
        f'<span class="qa-title">{_text(citation.title or citation.doc_id)}</span></div>'
        + _meta(citation.source, citation.published, citation.page)
        + f'<div class="qa-passage">{highlighted_passage(citation)}</div>'
        + _open_button(citation.doc_id, spans or [(citation.start, citation.end)])
        + "</div>"
    )


def _more_card(passage: ScoredChunk) -> str:
    chunk = passage.chunk
    return (
        f'<div class="qa-card qa-uncited"><div class="qa-card-head"><span class="qa-title">{_text(chunk.title or chunk.doc_id)}</span></div>'
        + _meta(chunk.source, chunk.published, chunk.page)
        + f'<div class="qa-passage">{_text(chunk.text)}</div>'
        + _open_button(chunk.doc_id, [])
        + "</div>"
    )


def _new_key() -> str:
    """An id for one answer's cards, unique on the page (two answers may cite the same card number)."""
    return "qa" + uuid.uuid4().hex[:10]


def short_text(answer: Answer) -> str:
    """The short answer's text, when the answerer found one."""
    return answer.short_answer.text.strip() if answer.short_answer and not answer.abstained else ""


def answer_html(answer: Answer, notes: list[str] | None = None) -> str:
    """The assistant message for a finished answer: the short answer first, the cited text under it
    with links to its cards, plain-words notes, the cards, and the passages retrieved but not cited."""
    key = _new_key()
    parts = []
    if answer.standalone_question and answer.standalone_question != answer.question:
        parts.append(f'<div class="qa-rewrite">Understood as: <q>{_text(answer.standalone_question)}</q></div>')
    if answer.abstained:
        parts.append(
            '<div class="qa-answer qa-abstained"><span class="qa-flag">Not in the articles</span> '
            f"{_text(answer.text)}</div>"
        )
    else:
        short = short_text(answer)
        if short:  # the span that answers leads; with none, the cited sentence stands alone
            parts.append(f'<div class="qa-short"><strong>{_text(short)}</strong></div>')
        parts.append(f'<div class="qa-answer">{_badges(_text(with_markers(answer)), key)}</div>')
    for note in notes or []:
        parts.append(f'<div class="qa-note">{_text(note)}</div>')
    cited_ids = {c.chunk_id for c in answer.citations}
    if answer.citations and not answer.abstained:
        spans: dict[str, list[tuple[int, int]]] = {}
        for c in answer.citations:
            spans.setdefault(c.doc_id, []).append((c.start, c.end))
        parts.append(
            '<div class="qa-cards">' + "".join(source_card(c, key, spans[c.doc_id]) for c in answer.citations) + "</div>"
        )
    more = [p for p in answer.passages if p.chunk.chunk_id not in cited_ids]
    if more:
        parts.append(
            f'<details class="qa-more"><summary>More passages ({len(more)})</summary>'
            + "".join(_more_card(p) for p in more)
            + "</details>"
        )
    return '<div class="qa-reply qa-final">' + "".join(parts) + "</div>"


def progress_html(steps: list[str]) -> str:
    """The assistant message while the answer is being worked out: the steps so far, the last one live."""
    items = "".join(
        f'<li class="{"qa-step-now" if i == len(steps) - 1 else "qa-step-done"}">{_text(step)}</li>'
        for i, step in enumerate(steps)
    )
    return f'<div class="qa-reply qa-pending"><ol class="qa-progress qa-streaming">{items}</ol></div>'


READER_MAX_CHARS = 200_000  # a huge article shows this much around its first cited sentence


def reader_html(title: str, source: str, published, url: str, text: str, marks: list[tuple[int, int]]) -> str:
    """The whole article, its cited sentences highlighted; the page scrolls the first into view."""
    shift, cut = 0, len(text) > READER_MAX_CHARS
    if cut:
        first = min((s for s, _ in marks), default=0)
        shift = max(0, min(first - READER_MAX_CHARS // 4, len(text) - READER_MAX_CHARS))
        text = text[shift : shift + READER_MAX_CHARS]
        marks = [(s - shift, e - shift) for s, e in marks]
    pieces, cursor = [], 0
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in marks):
        if start < cursor or start >= end:
            continue
        pieces.append(_text(text[cursor:start]))
        pieces.append(f"<mark>{_text(text[start:end])}</mark>")
        cursor = end
    pieces.append(_text(text[cursor:]))
    link = (
        f'<a class="qa-url" href="{escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{_text(url)}</a>'
        if url.startswith(("http://", "https://")) else ""
    )
    return (
        f'<article class="qa-reader"><h2 class="qa-title">{_text(title)}</h2>'
        + _meta(source, published) + link
        + (f'<p class="qa-note">An excerpt of {len(text):,} characters of a longer article.</p>' if cut else "")
        + f'<div class="qa-reader-text">{"".join(pieces)}</div></article>'
    )


def partial_html(text: str) -> str:
    """The assistant message while the answer is still streaming in."""
    return f'<div class="qa-reply"><div class="qa-answer qa-streaming">{_text(text)}</div></div>'


def question_html(question: str) -> str:
    """The user's own message, escaped too: pasted text may hold markup."""
    return f'<div class="qa-question">{_text(question)}</div>'


def articles_html(records: list) -> str:
    """The indexed articles, newest first as the store lists them; titles are article text, so escaped."""
    if not records:
        return '<div class="qa-articles qa-empty">No articles yet: add some above.</div>'
    items = []
    for r in records:
        meta = [m for m in (r.source, r.published.isoformat() if r.published else "") if m]
        meta.append(f"{r.n_chunks} passage{'s' if r.n_chunks != 1 else ''}")
        items.append(
            f'<li data-doc-id="{escape(r.doc_id, quote=True)}"><span class="qa-title">{_text(r.title or r.doc_id)}</span>'
            f'<span class="qa-meta">{_text(" · ".join(meta))} · <code>{_text(r.doc_id)}</code></span></li>'
        )
    return '<ul class="qa-articles">' + "".join(items) + "</ul>"


def error_html(message: str) -> str:
    return f'<div class="qa-reply"><div class="qa-error">{_text(message)}</div></div>'


CSS = """
:root { --qa-muted: #4b5563; --qa-link: #4338ca; --qa-flag: #92400e; --qa-error: #b91c1c; }
.dark { --qa-muted: #cbd5e1; --qa-link: #a5b4fc; --qa-flag: #fbbf24; --qa-error: #fca5a5; }
.qa-reply { display: flex; flex-direction: column; gap: .6rem; line-height: 1.5; }
.qa-answer { font-size: 1.02rem; }
.qa-ref { font-size: .72em; font-weight: 600; color: var(--qa-link); margin-left: 1px; }
.qa-rewrite { font-size: .85rem; color: var(--qa-muted); font-style: italic; }
.qa-abstained { border-left: 4px solid #d97706; background: rgba(217, 119, 6, .10); padding: .5rem .75rem;
  border-radius: 6px; }
.qa-flag { display: inline-block; font-size: .75rem; font-weight: 700; text-transform: uppercase;
  letter-spacing: .04em; color: var(--qa-flag); margin-right: .35rem; }
.qa-error { border-left: 4px solid #dc2626; background: rgba(220, 38, 38, .08); padding: .5rem .75rem;
  border-radius: 6px; color: var(--qa-error); }
.qa-note { font-size: .8rem; color: var(--qa-muted); }
.qa-cards { display: flex; flex-direction: column; gap: .5rem; }
.qa-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .55rem .75rem;
  background: var(--background-fill-secondary); font-size: .88rem; }
.qa-card-head { display: flex; align-items: baseline; gap: .5rem; font-weight: 600; }
.qa-n { display: inline-flex; align-items: center; justify-content: center; min-width: 1.4rem; height: 1.4rem;
  border-radius: 999px; background: var(--color-accent); color: white; font-size: .75rem; flex: none; }
.qa-meta { font-size: .78rem; color: var(--qa-muted); margin: .15rem 0 .3rem 1.9rem; }
.qa-passage { color: var(--qa-muted); margin-left: 1.9rem; }
.qa-passage mark { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 3px; }
.qa-short { font-size: 1.15rem; }
.qa-ref { text-decoration: none; padding: 0 2px; border-radius: 3px; }
.qa-ref:hover, .qa-ref:focus { text-decoration: underline; }
.qa-card.qa-flash { outline: 3px solid var(--color-accent); outline-offset: 2px; transition: outline-color .3s; }
.qa-open { display: inline-block; margin: .35rem 0 0 1.9rem; font-size: .8rem; padding: .15rem .6rem; border-radius: 6px; text-decoration: none;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); color: var(--body-text-color);
  cursor: pointer; }
.qa-uncited .qa-passage, .qa-uncited .qa-open, .qa-uncited .qa-meta { margin-left: 0; }
.qa-more summary { cursor: pointer; font-size: .85rem; color: var(--qa-muted); }
.qa-more .qa-card { margin-top: .4rem; }
.qa-progress { margin: 0; padding-left: 1.2rem; font-size: .9rem; color: var(--qa-muted); }
.qa-step-done::marker { content: "✓  "; }
.qa-step-now { color: var(--body-text-color); font-weight: 600; }
.qa-step-now::after { content: " "; display: inline-block; width: .7rem; height: .7rem; margin-left: .4rem;
  border: 2px solid var(--color-accent); border-right-color: transparent; border-radius: 50%;
  animation: qa-spin .8s linear infinite; vertical-align: middle; }
@keyframes qa-spin { to { transform: rotate(360deg); } }
#qa-reader { position: fixed; top: 4vh; bottom: 4vh; left: 6vw; right: 6vw; width: auto !important; max-width: 88vw;
  box-sizing: border-box; z-index: 1000; overflow-y: auto; overflow-x: hidden; box-shadow: 0 10px 40px rgba(0,0,0,.35);
  border-radius: 10px; background: var(--background-fill-primary); padding: 1rem 1.25rem; }
#qa-reader-close { position: sticky; top: 0; align-self: flex-end; z-index: 1; max-width: 8rem; }
.qa-reader h2 { font-size: 1.2rem; margin: 0 0 .3rem 0; }
.qa-reader .qa-meta { margin: 0 0 .4rem 0; }
.qa-reader-text { white-space: normal; line-height: 1.6; margin-top: .6rem; }
.qa-reader-text mark { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 3px; }
.dark .qa-passage mark, .dark .qa-reader-text mark { background: #fcd34d; color: #111827; }
#qa-status { min-height: 1.5rem; }
.qa-articles { list-style: none; margin: 0; padding: 0; max-height: 260px; overflow-y: auto; font-size: .85rem; }
.qa-articles li { display: flex; flex-direction: column; padding: .35rem .1rem;
  border-bottom: 1px solid var(--border-color-primary); }
.qa-articles li .qa-meta { margin: 0; }
.qa-empty { color: var(--qa-muted); font-size: .85rem; }
"""
