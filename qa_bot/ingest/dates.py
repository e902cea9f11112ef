"""Dates mentioned in text, resolved to calendar days ("February 1" in an article from January 2026
is 2026-02-01), so "next" and "latest" can be answered against the day the question is asked."""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}
# a month's name, full or abbreviated; question typing uses it too
MONTH_NAME = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_MONTH = rf"({MONTH_NAME})\.?"
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+((?:19|20)\d{{2}}))?", re.I)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b(?:,?\s+((?:19|20)\d{{2}}))?", re.I)
_ISO = re.compile(r"\b((?:19|20)\d{2})-(\d{2})-(\d{2})\b")


def _resolve(month: int, day: int, year: int | None, reference: date | None) -> date | None:
    try:
        if year:
            return date(year, month, day)
        if reference is None:
            return None
        # the year that puts the date nearest the reference: "February 1" in late January is ahead
        options = [date(reference.year + k, month, day) for k in (-1, 0, 1)]
        return min(options, key=lambda d: abs((d - reference).days))
    except ValueError:
        return None


def find_dates(text: str, reference: date | None) -> list[date]:
    """Calendar dates in `text`; a date without a year is resolved against `reference`."""
    found: list[date] = []
    # (pattern, group of the month, group of the day): "February 1, 2026" and "1 February 2026"
    for pattern, month_group, day_group in ((_MONTH_DAY, 1, 2), (_DAY_MONTH, 2, 1)):
        for match in pattern.finditer(text):
            month = _MONTHS[match.group(month_group)[:3].lower()]
            year = int(match.group(3)) if match.group(3) else None
            resolved = _resolve(month, int(match.group(day_group)), year, reference)
            if resolved:
                found.append(resolved)
    for match in _ISO.finditer(text):
        try:
            found.append(date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
        except ValueError:
            continue
    return sorted(set(found))
