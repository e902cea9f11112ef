"""Plain-words notes that belong under an answer, so a reader does not take it for more than it is:
an event the article announced that has passed by the day asked on, the filters that narrowed
the search, and an LLM answer that was replaced by a quotation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from qa_bot.ingest.dates import find_dates
from qa_bot.store import Filters
from qa_bot.types import Answer, plural

LLM_REPLACED = (
    "The model's answer could not be checked against the articles, so this answer is quoted from them."
)


def _day(value: date) -> str:
    return f"{value:%B} {value.day}, {value.year}"


def passed_event_note(answer: Answer, asked_on: date) -> str | None:
    """An event the cited sentence dates before the day asked on, which the article spoke of as
    ahead: it was dated after the article was published or, for an undated article, the question
    asks what comes next. The article cannot say how it went."""
    if answer.abstained:
        return None
    looks_ahead = answer.direction > 0
    for citation in answer.citations:
        written = citation.published
        if written is None and not looks_ahead:
            continue
        for day in find_dates(citation.sentence, written or asked_on):
            if day < asked_on and (written is None or written < day):
                since = f"the article is from {_day(written)} and" if written else "the article"
                return (
                    f"This was set for {_day(day)}, before the date you asked on ({_day(asked_on)}); "
                    f"{since} cannot say what happened since."
                )
    return None


def filter_note(filters: Filters | None, records: Sequence) -> str | None:
    """How much of the index the filters left, named: a refusal may be the filter's doing."""
    if not filters:
        return None
    kept = sum(1 for record in records if filters.accepts(record))
    return f"Only articles {filters.describe()} were searched: {kept} of {plural(len(records), 'article')}."


def answer_notes(answer: Answer, asked_on: date, filters: Filters | None = None, records: Sequence = ()) -> list[str]:
    notes = [passed_event_note(answer, asked_on), filter_note(filters, records)]
    if answer.fallback_reason:
        notes.append(LLM_REPLACED)
    return [note for note in notes if note]
