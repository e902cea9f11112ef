"""What a follow-up question leans on, read from spaCy's parse: the link word it opens with ("And
how many…"), a pronoun and whom it may point at, a bare wh-word ("And where?"), and the scene the
question before it set ("in the overnight strikes on Kyiv and Kharkiv"). `chat/condense.py`
rewrites follow-ups with these; it reads no words itself."""

from __future__ import annotations

from dataclasses import dataclass

from qa_bot.language.patterns import CITATION_MARKER
from qa_bot.language.pipeline import parse
from qa_bot.language.profile import WH_TAGS, degree_word

_SHORT_WORDS = 4  # a question this short leans on the one before it, whatever its words


@dataclass(frozen=True)
class FollowUpCues:
    """How a question leans on earlier turns; `body` is the question without its opening link."""

    body: str
    linked: bool  # opens with a conjunction or an interjection, or is "what about …"
    person_pronoun: tuple[int, int] | None  # character offsets in `body` of "he", "her", "his", …
    possessive: bool  # that pronoun is a possessive ("his", "her" before a noun)
    other_pronoun: bool  # "it", "they", "there", "this", …
    wh_only: bool  # nothing but a wh-phrase: "where?", "how many?"
    short: bool

    @property
    def is_follow_up(self) -> bool:
        return self.linked or self.person_pronoun is not None or self.other_pronoun or self.short


def follow_up_cues(question: str) -> FollowUpCues:
    doc = parse(question.strip())
    start = 0
    for token in doc:  # "And", "But", "OK," … before the question proper
        marker = token.i + 1 < len(doc) and doc[token.i + 1].text == "," and token.tag_ not in WH_TAGS
        if token.dep_ in ("cc", "intj") or token.tag_ in ("CC", "UH") or token.is_punct or marker:
            start = token.i + 1
            continue
        break
    about = [t for t in doc if t.dep_ == "ROOT" and t.lower_ == "about" and any(c.tag_ in WH_TAGS for c in t.children)]
    if about:  # "what about Kharkiv?": the link is the whole opening
        start = max(start, about[0].i + 1)
    linked = start > 0
    offset = doc[start].idx if start < len(doc) else len(doc.text)
    body = doc.text[offset:].strip()
    person, possessive, other = None, False, False
    for token in doc[start:]:
        if token.pos_ != "PRON" and token.tag_ not in ("PRP", "PRP$", "EX", "DT"):
            continue
        gender = token.morph.get("Gender")
        if person is None and token.morph.get("Person") == ["3"] and gender and gender[0] in ("Masc", "Fem"):
            person = (token.idx - offset, token.idx - offset + len(token.text))
            possessive = token.tag_ == "PRP$" or token.morph.get("Poss") == ["Yes"]
        elif token.morph.get("Person") == ["3"] or token.morph.get("PronType") == ["Dem"] or token.tag_ == "EX":
            other = other or token.tag_ != "DT" or token.dep_ != "det"  # "this" alone, not "this week"
    words = [t for t in doc[start:] if not t.is_punct]
    return FollowUpCues(
        body=body,
        linked=linked,
        person_pronoun=person,
        possessive=possessive,
        other_pronoun=other,
        wh_only=bool(words) and _wh_phrase_end(words[0].doc, words[0].i) == words[-1].i + 1,
        short=len(words) <= _SHORT_WORDS,
    )


def named_person(text: str) -> str | None:
    """The first person the text names: a PERSON entity, else the first proper name the entity
    model placed nowhere else (the small model misses "Igor Kostyukov" after "Moscow appointed")."""
    doc = parse(CITATION_MARKER.sub("", text).strip())
    for entity in doc.ents:
        if entity.label_ == "PERSON":
            return entity.text
    for token in doc:
        if token.pos_ == "PROPN" and not token.ent_type_ and token.dep_ != "compound":
            names = [t for t in token.subtree if t.pos_ == "PROPN" and not t.ent_type_ and t.i <= token.i]
            if names and names[-1].i - names[0].i == len(names) - 1:  # one unbroken name
                return doc[names[0].i : token.i + 1].text
    return None


def wh_phrase(question: str) -> tuple[int, int] | None:
    """Character offsets of the wh-phrase a question opens with ("When", "How many"), or None."""
    doc = parse(question.strip())
    if not len(doc) or doc[0].tag_ not in WH_TAGS:
        return None
    end = _wh_phrase_end(doc, 0)
    return (0, doc[end - 1].idx + len(doc[end - 1].text))


def scene(question: str) -> str:
    """The first prepositional phrase of the question's main clause, the place or event it is set
    in ("in the overnight strikes on Kyiv and Kharkiv"); "" when it has none."""
    doc = parse(question.strip())
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    with_object = [t for t in doc if t.dep_ == "prep" and any(c.dep_ == "pobj" for c in t.children)]
    preps = [t for t in with_object if root is not None and t.head.i == root.i] or with_object
    if not preps:
        return ""
    subtree = list(preps[0].subtree)
    return doc[subtree[0].i : subtree[-1].i + 1].text


def _wh_phrase_end(doc, i: int) -> int:
    """The token index after the wh-phrase starting at `i`: "how" takes the word it asks the degree
    of ("how many", "how far", as the profile reads it), other wh-words stand alone."""
    if doc[i].tag_ not in WH_TAGS:
        return i
    return i + 2 if degree_word(doc[i]) is not None else i + 1
