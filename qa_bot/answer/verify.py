"""Checks a generated answer's citations against the passages they point to.

A language model, a small one above all, can cite a passage that does not say what it wrote. So every
claim (a sentence of the answer) is checked against the passages its `[n]` markers name: the claim's
content words, stemmed, must be found there. A bare "Yes"/"No" has no content words of its own; what
it asserts is the question, so the question's key words must be found in the cited passages instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from qa_bot.language.patterns import CITATION_MARKER as _MARKER
from qa_bot.language.patterns import NAME as _NAME
from qa_bot.language.patterns import YES_NO_OPENING as _YES_NO
from qa_bot.settings import Tuning
from qa_bot.text import terms


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=\])\s*[.;]\s+(?=\S)")
_NUMBER = re.compile(r"^\d")
# Words a question uses to ask rather than to say what about: not evidence of relevance.
_ASKING = frozenset(terms("article articles report reports reported suggest suggests say says said claim claims"
                          " mention mentions mentioned indicate indicates according news"))


@dataclass(frozen=True)
class Claim:
    text: str  # without its markers
    cited: tuple[int, ...]  # passage numbers, as written


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str  # why it failed, for the user ("" when it held)
    cited: tuple[int, ...] = ()  # the passages the answer cites, in order of first use


def markers(text: str) -> list[int]:
    """Every passage number cited in `text`, in order, repeats kept."""
    return [int(n) for group in _MARKER.findall(text) for n in re.split(r"\s*[,;]\s*", group)]


def strip_markers(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", text)).strip()


def split_claims(answer: str) -> list[Claim]:
    """The answer's sentences, each with the markers written in or right after it."""
    claims = []
    for part in _SENTENCE_END.split(answer.strip()):
        if part.strip():
            claims.append(Claim(strip_markers(part), tuple(markers(part))))
    return claims


def yes_no(answer: str) -> str | None:
    """"Yes" or "No" when the answer starts with one, else None."""
    match = _YES_NO.match(answer)
    return match.group(1).capitalize() if match else None


def coverage(words: list[str] | set[str], passage: str) -> float:
    """Share of `words` (stemmed terms) found among the passage's terms; 1.0 for no words."""
    words = set(words)
    if not words:
        return 1.0
    return len(words & set(terms(passage))) / len(words)


def claim_supported(
    claim: str, passage: str, question: str = "",
    min_coverage: float = Tuning.model_fields["min_claim_coverage"].default,
) -> bool:
    """The claim says something the question does not, and the passage says it too: enough of the
    claim's new content words are in the passage, and every number and name is (a wrong number or
    name is the commonest invention, and one word among several would not show it)."""
    asked = set(terms(question))
    words = set(terms(claim)) - asked
    if not words:
        return False  # empty, or only the question's own words echoed back
    present = set(terms(passage))
    exact = {w for w in words if _NUMBER.match(w)} | (set(terms(" ".join(_NAME.findall(claim)))) - asked)
    if exact - present:
        return False
    return coverage(words, passage) >= min_coverage


def question_key_terms(question: str) -> set[str]:
    return {t for t in terms(question) if t not in _ASKING}


def verify(
    answer: str, passages: Mapping[int, str], question: str, is_yes_no: bool = False, tuning: Tuning | None = None
) -> Verdict:
    """Whether every claim of `answer` is supported by the passages it cites.

    `passages` maps each number shown to the model to the text it saw under that number. An answer
    with no citation, a citation of a number that was not shown, or a claim its passages do not
    support fails; `is_yes_no` lets the answer open with "Yes"/"No", checked against the question.
    """
    tuning = tuning or Tuning()
    cited_all = list(dict.fromkeys(markers(answer)))
    if not cited_all:
        return Verdict(False, "the answer cites no passage")
    unknown = [n for n in cited_all if n not in passages]
    if unknown:
        return Verdict(False, f"the answer cites [{unknown[0]}], which is not one of the passages")
    body = answer
    if is_yes_no:
        verdict = yes_no(answer)
        if verdict is None:
            return Verdict(False, "a yes/no question got an answer that is neither yes nor no")
        union = " ".join(passages[n] for n in cited_all)
        if coverage(question_key_terms(question), union) < tuning.min_question_coverage:
            return Verdict(False, f"the cited passages do not mention what the question asks about", tuple(cited_all))
        body = _YES_NO.sub("", answer, count=1)
    claims = split_claims(body)
    for claim in claims:
        if not terms(claim.text):
            if is_yes_no or not claim.text:
                continue  # "Yes [1]" or a lone marker: checked above / nothing claimed
            return Verdict(False, f"“{claim.text}” says nothing the passages could confirm", tuple(cited_all))
        if not set(terms(claim.text)) - set(terms(question)):
            return Verdict(False, f"“{claim.text}” only repeats the question", tuple(cited_all))
        own = claim.cited or tuple(cited_all)  # an unmarked sentence is read against all cited passages
        support = " ".join(passages[n] for n in own)
        if not claim_supported(claim.text, support, question, tuning.min_claim_coverage):
            where = ", ".join(f"[{n}]" for n in own)
            return Verdict(False, f"passage {where} does not support “{claim.text}”", tuple(cited_all))
    return Verdict(True, "", tuple(cited_all))
