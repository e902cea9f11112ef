"""Follow-up rewriting by a language model, used when the LLM answerer is selected.

A model resolves references the rules cannot ("the second one", "what about the other side?"), but
a small one may also drop or invent words. Its rewrite is used only when it keeps the follow-up's
own words, brings in something from the conversation and reads as one question; otherwise the
rule-based rewrite (`condense`) is used, so a follow-up is never worse off than without a model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from qa_bot.answer.llms import call_errors
from qa_bot.chat.condense import condense, is_follow_up
from qa_bot.prompts import render
from qa_bot.text import terms

HISTORY_TURNS = 4  # the last two exchanges are what a follow-up leans on
MAX_WORDS = 40
MIN_KEPT = 0.75  # share of the follow-up's content words the rewrite must keep

_MARKER = re.compile(r"\s*\[\d{1,2}\]")
_LEAD_IN = re.compile(r"^\s*(?:rewritten question|standalone question|question)\s*:\s*", re.I)


def condense_with_llm(llm: Any, question: str, history: Sequence[dict] | None) -> str:
    """The standalone form of `question`, written by `llm` when its rewrite is usable."""
    history = list(history or [])
    question = question.strip()
    if not is_follow_up(question, history):
        return question
    fallback = condense(question, history)
    prompt = render("condense", history=format_history(history), question=question)
    try:
        reply = llm.complete(prompt)
    except call_errors():
        return fallback
    rewrite = tidy(reply.text or "")
    return rewrite if usable(rewrite, question, history) else fallback


def format_history(history: Sequence[dict]) -> str:
    lines = []
    for turn in history[-HISTORY_TURNS:]:
        role = "User" if turn.get("role") == "user" else "Assistant"
        lines.append(f"{role}: {_MARKER.sub('', str(turn.get('content', ''))).strip()}")
    return "\n".join(lines)


def tidy(raw: str) -> str:
    line = next((ln.strip() for ln in raw.splitlines() if ln.strip()), "")
    line = _LEAD_IN.sub("", line).strip().strip("\"'“”")
    if line and not line.endswith("?"):
        line = line.rstrip(".") + "?"
    return line


def usable(rewrite: str, question: str, history: Sequence[dict]) -> bool:
    """A rewrite keeps the follow-up's words, adds words from the conversation and stays short."""
    if not rewrite or len(rewrite.split()) > MAX_WORDS or rewrite.count("?") > 1:
        return False
    own = set(terms(question))
    new = set(terms(rewrite))
    if own and len(own & new) / len(own) < MIN_KEPT:
        return False
    earlier = set(terms(" ".join(str(t.get("content", "")) for t in history)))
    return bool((new - own) & earlier)  # it resolved something from the conversation
