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
from qa_bot.language.patterns import CITATION_MARKER
from qa_bot.prompts import render
from qa_bot.settings import Tuning
from qa_bot.text import terms

_LEAD_IN = re.compile(r"^\s*(?:rewritten question|standalone question|question)\s*:\s*", re.I)


def condense_with_llm(llm: Any, question: str, history: Sequence[dict] | None, tuning: Tuning | None = None) -> str:
    """The standalone form of `question`, written by `llm` when its rewrite is usable."""
    tuning = tuning or Tuning()
    history = list(history or [])
    question = question.strip()
    if not is_follow_up(question, history):
        return question
    fallback = condense(question, history)
    prompt = render("condense", history=format_history(history, tuning.condense_history_turns), question=question)
    try:
        reply = llm.complete(prompt)
    except call_errors():
        return fallback
    rewrite = tidy(reply.text or "")
    return rewrite if usable(rewrite, question, history, tuning) else fallback


def format_history(history: Sequence[dict], turns: int = Tuning.model_fields["condense_history_turns"].default) -> str:
    """The last `turns` turns (two exchanges are what a follow-up leans on), citation markers dropped."""
    lines = []
    for turn in history[-turns:]:
        role = "User" if turn.get("role") == "user" else "Assistant"
        text = " ".join(CITATION_MARKER.sub(" ", str(turn.get("content", ""))).split())
        lines.append(f"{role}: {text}")
    return "\n".join(lines)


def tidy(raw: str) -> str:
    line = next((ln.strip() for ln in raw.splitlines() if ln.strip()), "")
    line = _LEAD_IN.sub("", line).strip().strip("\"'“”")
    if line and not line.endswith("?"):
        line = line.rstrip(".") + "?"
    return line


def usable(rewrite: str, question: str, history: Sequence[dict], tuning: Tuning | None = None) -> bool:
    """A rewrite keeps the follow-up's words, adds words from the conversation and stays short."""
    tuning = tuning or Tuning()
    if not rewrite or len(rewrite.split()) > tuning.condense_max_words or rewrite.count("?") > 1:
        return False
    own = set(terms(question))
    new = set(terms(rewrite))
    if own and len(own & new) / len(own) < tuning.condense_min_kept:
        return False
    earlier = set(terms(" ".join(str(t.get("content", "")) for t in history)))
    return bool((new - own) & earlier)  # it resolved something from the conversation
