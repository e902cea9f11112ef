"""Gold sets in: questions.jsonl read and checked line by line, so a bad line names its file and line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from qa_bot.errors import InputError, quoted
from qa_bot.ingest.loaders import iter_jsonl

ROLES = ("user", "assistant")


@dataclass(frozen=True)
class GoldQuestion:
    """One question of a gold set, as DESIGN.md ("Gold sets") describes it."""

    id: str
    question: str
    answers: tuple[str, ...]
    answerable: bool
    evidence_ids: tuple[str, ...] = ()
    evidence_text: tuple[str, ...] = ()
    type: str = ""
    asked_on: str | None = None  # "YYYY-MM-DD"; None: today
    history: tuple[dict, ...] = field(default_factory=tuple)

    @property
    def has_evidence(self) -> bool:
        return bool(self.evidence_text or self.evidence_ids)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "question": self.question,
            "answers": list(self.answers),
            "answerable": self.answerable,
            "evidence_ids": list(self.evidence_ids),
            "evidence_text": list(self.evidence_text),
            "type": self.type,
            "asked_on": self.asked_on,
            "history": [dict(turn) for turn in self.history],
        }


def read_questions(path: str | Path) -> list[GoldQuestion]:
    """Every question of a questions.jsonl file; the first bad line stops it with `file:line: why`."""
    path = Path(path)
    _check_file(path, "questions")
    questions: list[GoldQuestion] = []
    seen: dict[str, int] = {}
    for lineno, record in iter_jsonl(path):
        where = f"{path}:{lineno}"
        question = parse_question(record, where)
        if question.id in seen:
            raise InputError(f"{where}: question id '{quoted(question.id)}' was already used on line {seen[question.id]}.")
        seen[question.id] = lineno
        questions.append(question)
    if not questions:
        raise InputError(f"{path} holds no questions.")
    return questions


def corpus_ids(path: str | Path) -> set[str]:
    """The article ids of a corpus file, to tell gold evidence ids that point nowhere."""
    path = Path(path)
    _check_file(path, "corpus")
    ids: set[str] = set()
    for lineno, record in iter_jsonl(path):
        if record.get("id") in (None, ""):
            raise InputError(f"{path}:{lineno}: missing required field 'id'.")
        ids.add(str(record["id"]))
    if not ids:
        raise InputError(f"{path} holds no articles.")
    return ids


def parse_question(record: dict, where: str) -> GoldQuestion:
    """One record checked field by field; `where` ("file:line") starts every message."""
    qid = record.get("id")
    if qid in (None, "") or isinstance(qid, (bool, dict, list)):
        raise InputError(f"{where}: missing required field 'id'.")
    text = record.get("question")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{where}: field 'question' must be a non-empty string.")
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise InputError(f"{where}: field 'answerable' must be true or false, got {json.dumps(answerable)}.")
    answers = _strings(record, "answers", where)
    answers = tuple(a for a in answers if a.strip())
    if answerable and not answers:
        raise InputError(f"{where}: an answerable question needs at least one entry in 'answers'.")
    kind = record.get("type", "")
    if not isinstance(kind, str):
        raise InputError(f"{where}: field 'type' must be a string.")
    return GoldQuestion(
        id=str(qid),
        question=text.strip(),
        answers=answers,
        answerable=answerable,
        evidence_ids=tuple(_strings(record, "evidence_ids", where)),
        evidence_text=tuple(e for e in _strings(record, "evidence_text", where) if e.strip()),
        type=kind.strip() or "untyped",
        asked_on=_asked_on(record.get("asked_on"), where),
        history=_history(record.get("history"), where),
    )


def _check_file(path: Path, what: str) -> None:
    if not path.exists():
        raise InputError(f"The {what} file {path} does not exist.")
    if not path.is_file():
        raise InputError(f"The {what} file {path} is not a file.")


def _strings(record: dict, key: str, where: str) -> list[str]:
    value = record.get(key)
    if value is None:
        return []
    if isinstance(value, str):  # one answer given bare is still clearly meant
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        raise InputError(f"{where}: field '{key}' must be a list of strings.")
    return [str(v) for v in value]


def _asked_on(value: object, where: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InputError(f"{where}: field 'asked_on' must be a date like 2026-01-25.")
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InputError(f"{where}: field 'asked_on' must be a date like 2026-01-25, got '{value}'.") from None


def _history(value: object, where: str) -> tuple[dict, ...]:
    if value in (None, ""):
        return ()
    if not isinstance(value, list):
        raise InputError(f"{where}: field 'history' must be a list of {{role, content}} turns.")
    turns = []
    for i, turn in enumerate(value, 1):
        if not isinstance(turn, dict) or turn.get("role") not in ROLES or not isinstance(turn.get("content"), str):
            raise InputError(
                f"{where}: history turn {i} must be {{\"role\": \"user\" or \"assistant\", \"content\": text}}."
            )
        turns.append({"role": turn["role"], "content": turn["content"]})
    return tuple(turns)
