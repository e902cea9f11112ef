"""The conversation a question arrives with, checked and cut to the request budget.

Every surface (the page, `/v1`, the Python API) hands its history to `QABot.ask`, which passes it
through here first: a follow-up only needs the last few turns, and a client must not be able to
make one question cost as much as ten megabytes of text.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa_bot.errors import InputError

ROLES = ("user", "assistant")


def bounded_history(history: Sequence[dict] | None, max_turns: int, max_chars: int) -> list[dict]:
    """The latest turns that fit in `max_turns` and `max_chars`, as plain {role, content} dicts.

    Older turns are dropped first; the newest turn alone longer than `max_chars` keeps its start
    (where a question or an answer says what it is about). A malformed turn is a user error."""
    if history is None:
        return []
    if isinstance(history, (str, bytes, dict)) or not isinstance(history, Sequence):
        raise InputError("The history must be a list of {role, content} turns.")
    # only the turns that can be kept are looked at: a huge history costs no more than a small one
    recent = list(history[-max_turns:]) if max_turns else []
    kept: list[dict] = []
    room = max_chars
    for offset, turn in enumerate(reversed(recent)):
        number = len(history) - offset
        if not isinstance(turn, dict) or turn.get("role") not in ROLES + ("system",):
            raise InputError(f"History turn {number} must be an object with a role of 'user' or 'assistant'.")
        content = turn.get("content")
        if not isinstance(content, str):
            raise InputError(f"History turn {number} must have text content.")
        if turn["role"] == "system":
            continue  # instructions to a chat model; the answerers take none
        if room <= 0:
            break
        if len(content) > room:
            if kept:
                break  # an older turn that does not fit ends the history here
            content = content[:room]
        kept.append({"role": turn["role"], "content": content})
        room -= len(content)
    kept.reverse()
    return kept
