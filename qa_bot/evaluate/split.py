"""The honest split of a dev set: every constant is chosen on `tune`, and `check` says whether the
choice holds on questions it was not chosen on. A question's half is fixed by a hash of its id, so
the halves never change as sets grow or are reordered."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from qa_bot.errors import InputError
from qa_bot.evaluate.gold import GoldQuestion

SPLITS = ("tune", "check", "all")


def half(question_id: str) -> str:
    """'tune' or 'check': the parity of the id's sha256."""
    return "tune" if hashlib.sha256(question_id.encode("utf-8")).digest()[-1] % 2 == 0 else "check"


def select_split(questions: Sequence[GoldQuestion], split: str | None) -> list[GoldQuestion]:
    """The questions of one half ('tune', 'check'), or all of them ('all' or None)."""
    if split is None or split == "all":
        return list(questions)
    if split not in SPLITS:
        raise InputError(f"Unknown split '{split}'; choose one of: {', '.join(SPLITS)}.")
    return [q for q in questions if half(q.id) == split]
