"""HTML for one chat answer: the answer, the rewritten question, numbered source cards.

Every piece of article text is escaped here, because articles come from anywhere: a passage holding
`<script>` must show as text, never run. The markup is one line with no blank lines, so the chat's
Markdown renderer passes it through as a single HTML block instead of reading the text as Markdown.
"""

from __future__ import annotations

import re
from html import escape

from qa_bot.types import Answer, Citation

_MARKER = re.compile(r"\[(\d{1,2})\]")
_BREAKS = re.compile(r"\n+")  # a paragraph break shows as one line break: cards stay compact


def with_markers(answer: Answer) -> str:
    """The answer text with its [n] citation markers; appended when the answerer wrote none."""
    text = answer.text.strip()
    if answer.abstained or not answer.citations or _MARKER.search(text):
        return text
    return text + " " + "".join(f"[{c.n}]" for c in answer.citations)


def _text(value: str) -> str:
    """Escaped text that stays on one line of markup (a blank line would end the HTML block)."""
    return _BREAKS.sub("<br>", escape(value, quote=True).replace("\r", ""))


def _badges(escaped: str) -> str:
    return _MARKER.sub(r'<sup class="qa-ref">\1</sup>', escaped)


def highlighted_passage(citation: Citation) -> str:
    """The passage with its cited sentence in <mark>; offsets are clamped so bad ones still render."""
    text = citation.text
    start = min(max(citation.start - citation.passage_start, 0), len(text))
    end = min(max(citation.end - citation.passage_start, start), len(text))
    return f"{_text(text[:start])}<mark>{_text(text[start:end])}</mark>{_text(text[end:])}"


def source_card(citation: Citation) -> str:
    meta = [f'<span class="qa-source">{_text(citation.source)}</span>'] if citation.source else []
    if citation.published:
        meta.append(f'<time datetime="{citation.published.isoformat()}">{citation.published:%d %b %Y}</time>')
    return (
        f'<div class="qa-card" data-n="{citation.n}">'
        f'<div class="qa-card-head"><span class="qa-n">{citation.n}</span>'
        f'<span class="qa-title">{_text(citation.title or citation.doc_id)}</span></div>'
        + (f'<div class="qa-meta">{" · ".join(meta)}</div>' if meta else "")
        + f'<div class="qa-passage">{highlighted_passage(citation)}</div></div>'
    )


def answer_html(answer: Answer) -> str:
    """The assistant message for a finished answer."""
    parts = []
    if answer.standalone_question and answer.standalone_question != answer.question:
        parts.append(f'<div class="qa-rewrite">Understood as: <q>{_text(answer.standalone_question)}</q></div>')
    if answer.abstained:
        parts.append(
            '<div class="qa-answer qa-abstained"><span class="qa-flag">Not in the articles</span> '
            f"{_text(answer.text)}</div>"
        )
    else:
        if answer.short_answer:
            parts.append(f'<div class="qa-short"><strong>{_text(answer.short_answer.text)}</strong></div>')
        parts.append(f'<div class="qa-answer">{_badges(_text(with_markers(answer)))}</div>')
    if answer.fallback_reason:
        parts.append(f'<div class="qa-note">{_text(answer.fallback_reason)}</div>')
    if answer.citations and not answer.abstained:
        parts.append('<div class="qa-cards">' + "".join(source_card(c) for c in answer.citations) + "</div>")
    return '<div class="qa-reply">' + "".join(parts) + "</div>"


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
.qa-reply { display: flex; flex-direction: column; gap: .6rem; line-height: 1.5; }
.qa-answer { font-size: 1.02rem; }
.qa-ref { font-size: .72em; font-weight: 600; color: var(--color-accent); margin-left: 1px; }
.qa-rewrite { font-size: .85rem; color: var(--body-text-color-subdued); font-style: italic; }
.qa-abstained { border-left: 4px solid #d97706; background: rgba(217, 119, 6, .10); padding: .5rem .75rem;
  border-radius: 6px; }
.qa-flag { display: inline-block; font-size: .75rem; font-weight: 700; text-transform: uppercase;
  letter-spacing: .04em; color: #b45309; margin-right: .35rem; }
.qa-error { border-left: 4px solid #dc2626; background: rgba(220, 38, 38, .08); padding: .5rem .75rem;
  border-radius: 6px; color: #b91c1c; }
.qa-note { font-size: .8rem; color: var(--body-text-color-subdued); }
.qa-cards { display: flex; flex-direction: column; gap: .5rem; }
.qa-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .55rem .75rem;
  background: var(--background-fill-secondary); font-size: .88rem; }
.qa-card-head { display: flex; align-items: baseline; gap: .5rem; font-weight: 600; }
.qa-n { display: inline-flex; align-items: center; justify-content: center; min-width: 1.4rem; height: 1.4rem;
  border-radius: 999px; background: var(--color-accent); color: white; font-size: .75rem; flex: none; }
.qa-meta { font-size: .78rem; color: var(--body-text-color-subdued); margin: .15rem 0 .3rem 1.9rem; }
.qa-passage { color: var(--body-text-color-subdued); margin-left: 1.9rem; }
.qa-passage mark { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 3px; }
#qa-status { min-height: 1.5rem; }
.qa-articles { list-style: none; margin: 0; padding: 0; max-height: 260px; overflow-y: auto; font-size: .85rem; }
.qa-articles li { display: flex; flex-direction: column; padding: .35rem .1rem;
  border-bottom: 1px solid var(--border-color-primary); }
.qa-articles li .qa-meta { margin: 0; }
.qa-empty { color: var(--body-text-color-subdued); font-size: .85rem; }
"""
