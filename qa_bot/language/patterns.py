"""The few surface patterns that are not language understanding but notation: citation markers,
a bare yes/no opening, and capitalised names. One copy of each for the whole package."""

from __future__ import annotations

import re

# "[1]", "[1, 3]", "[2;4]": the passage numbers an answer cites
CITATION_MARKER = re.compile(r"\[\s*(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\s*\]")
# an answer that opens with a verdict: "Yes, …", "No."
YES_NO_OPENING = re.compile(r"^\W*(yes|no)\b[\s,.:;!-]*", re.I)
# capitalised words past the first of a sentence: names, mostly (for text the parser did not see)
NAME = re.compile(r"(?<=\s)[A-Z][\w’'-]*")
