"""`QuestionProfile`: what a question asks for and what it pins down, read off spaCy's parse once
per question. Retrieval boosts, evidence selection, the answerers and the constraint check read it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

from qa_bot.language.pipeline import parse


class AnswerType(str, Enum):
    PERSON = "person"  # "who …": a person, or an organisation or country acting
    ORGANISATION = "organisation"
    PLACE = "place"
    DATE = "date"
    QUANTITY = "quantity"
    CAUSE = "cause"
    MANNER = "manner"  # "how did X describe Y": a description
    YES_NO = "yes_no"
    THING = "thing"  # "what …": a noun phrase of no narrower kind


# the wh-words that fix the type on their own
_WH_TYPE = {
    "who": AnswerType.PERSON, "whom": AnswerType.PERSON, "whose": AnswerType.PERSON,
    "when": AnswerType.DATE, "where": AnswerType.PLACE, "why": AnswerType.CAUSE,
}
_WH_TAGS = frozenset({"WDT", "WP", "WP$", "WRB"})
# the verbs that also serve as auxiliaries: the closed class English inverts to ask yes or no
_AUXILIARY_LEMMAS = frozenset({"be", "do", "have"})
# entity labels a question names as a constraint (dates and numbers are handled as such)
NAMED_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "WORK_OF_ART", "PRODUCT", "LAW"})
_YEAR = re.compile(r"^(1\d{3}|20\d{2})s?$")

NounTyper = Callable[[str], "AnswerType | None"]


@dataclass(frozen=True)
class QuestionProfile:
    """Everything the pipeline needs to know about one question, from one parse."""

    text: str
    answer_type: AnswerType
    wh: str  # the wh-word ("which", "how many", …), "" for yes/no and wh-less questions
    head: str  # the noun the wh-word asks about ("which *fleet*"), its lemma; "" when none
    heads: frozenset[str]  # it and the noun it is a kind of ("what type *of numbers*")
    lemmas: frozenset[str]  # content lemmas, lower-cased
    verbs: frozenset[str]  # lemmas of its main verbs ("led", "injured"): the answer hangs off them
    role: str  # the asked-for thing's role: "subj", "obj" or "" ("what did they *share*" asks an object)
    years: frozenset[str]  # "2019": evidence must carry it
    numbers: frozenset[str]  # other numerals the question names ("22nd", "3")
    entities: tuple[str, ...]  # named entities the question names, as written
    yes_no: bool
    negated: bool
    comparison: bool

    @property
    def constraints(self) -> tuple[str, ...]:
        """The hard constraints, years first: what an answer's evidence must carry."""
        return tuple(sorted(self.years)) + tuple(sorted(self.numbers - self.years)) + self.entities


def analyse(question: str, noun_type: NounTyper | None = None) -> QuestionProfile:
    """The profile of `question`. `noun_type` types the head noun of "which/what X" questions
    (the embedding model does it in the pipeline: "fleet" is an organisation, "port" a place)."""
    doc = parse(question.strip())
    wh_token = next((t for t in doc if t.tag_ in _WH_TAGS), None)
    yes_no = _is_yes_no(doc, wh_token)
    answer_type, wh, head = _answer_type(doc, wh_token, yes_no, noun_type)
    heads = {head} if head else set()
    for token in doc:
        if head and token.lemma_.lower() == head:
            heads.update(g.lemma_.lower() for p in token.children if p.dep_ == "prep" and p.lower_ == "of"
                         for g in p.children if g.dep_ == "pobj")
    asked_span = {t.i for t in _asking_tokens(doc, wh_token)}
    lemmas = frozenset(
        t.lemma_.lower() for t in doc
        if t.i not in asked_span and not (t.is_stop or t.is_punct or t.is_space) and t.tag_ not in _WH_TAGS
    )
    years = frozenset(t.text.rstrip("s") for t in doc if _YEAR.match(t.text))
    numbers = frozenset(
        t.text for t in doc if t.i not in asked_span and any(ch.isdigit() for ch in t.text)
    ) - years
    entities = tuple(dict.fromkeys(e.text for e in doc.ents if e.label_ in NAMED_LABELS))
    return QuestionProfile(
        text=question,
        answer_type=answer_type,
        wh=wh,
        head=head,
        heads=frozenset(heads),
        lemmas=lemmas,
        verbs=frozenset(t.lemma_.lower() for t in doc if t.pos_ == "VERB" and t.i not in asked_span),
        role=_role(wh_token),
        years=years,
        numbers=frozenset(numbers),
        entities=entities,
        yes_no=yes_no,
        negated=any(t.dep_ == "neg" for t in doc),
        comparison=any(t.tag_ in ("JJR", "JJS", "RBR", "RBS") for t in doc if t.i not in asked_span),
    )


def _is_yes_no(doc: Doc, wh_token: Token | None) -> bool:
    """The main clause's auxiliary comes before its subject ("*Did* Zelensky say …", "Between A and
    B, *is* there …"), and no wh-word asks before it ("Does it say *who* won?" is still yes/no)."""
    aux = None
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is not None:
        inverted = root if root.pos_ == "AUX" else next(
            (c for c in root.children if c.dep_ in ("aux", "auxpass") and c.i < root.i), None)
        subject = next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass", "expl", "csubj")), None)
        if inverted is not None and subject is not None and inverted.i < subject.i:
            aux = inverted
    if aux is None:
        # long questions the parser splits oddly: an auxiliary opening the question or a clause after
        # a comma ("Between the report from A and the report from B, *is* there …")
        # The small model tags a question-opening "Has"/"Did" as the main verb when the sentence is
        # long, so an auxiliary's lemma counts too there
        words = [t for t in doc if not t.is_space]
        aux = next((t for k, t in enumerate(words) if _auxiliary(t) and (k == 0 or words[k - 1].text == ",")), None)
    return aux is not None and (wh_token is None or wh_token.i > aux.i)


def _auxiliary(token: Token) -> bool:
    return token.pos_ == "AUX" or token.tag_ == "MD" or (token.pos_ == "VERB" and token.lemma_ in _AUXILIARY_LEMMAS)


def role_of(token: Token) -> str:
    """A dependency label reduced to what the answer's place in a clause needs: subject or object."""
    if token.dep_ in ("nsubj", "nsubjpass", "csubj", "expl"):
        return "subj"
    if token.dep_ in ("dobj", "pobj", "attr", "oprd", "dative"):
        return "obj"
    return ""


def _role(wh_token: Token | None) -> str:
    if wh_token is None:
        return ""
    return role_of(wh_token.head if wh_token.dep_ == "det" else wh_token)


def _asking_tokens(doc: Doc, wh_token: Token | None) -> list[Token]:
    """The words that ask rather than say what about: "how *many*", "which" itself."""
    if wh_token is None:
        return []
    out = [wh_token]
    if wh_token.lower_ == "how" and wh_token.i + 1 < len(doc) and doc[wh_token.i + 1].pos_ in ("ADJ", "ADV"):
        out.append(doc[wh_token.i + 1])
    return out


def _answer_type(
    doc: Doc, wh_token: Token | None, yes_no: bool, noun_type: NounTyper | None
) -> tuple[AnswerType, str, str]:
    if yes_no:
        return AnswerType.YES_NO, "", ""
    if wh_token is None:
        return AnswerType.THING, "", ""
    word = wh_token.lower_
    if word in _WH_TYPE:
        return _WH_TYPE[word], word, ""
    if word == "how":
        nxt = doc[wh_token.i + 1] if wh_token.i + 1 < len(doc) else None
        if nxt is not None and nxt.pos_ in ("ADJ", "ADV") and nxt.lower_ not in ("come",):
            return AnswerType.QUANTITY, f"how {nxt.lower_}", ""
        return AnswerType.MANNER, "how", ""
    # "which fleet", "what kind of strikes", "in which region": the noun the wh-word determines
    head = wh_token.head if wh_token.dep_ == "det" and wh_token.head.pos_ in ("NOUN", "PROPN") else None
    chunk = next((c for c in doc.noun_chunks if c.start <= wh_token.i < c.end and c.root.i != wh_token.i), None)
    if head is None and chunk is not None:
        head = chunk.root
    if head is None and wh_token.head.lemma_ == "be" and wh_token.dep_ in ("attr", "nsubj"):
        # "What is the major tributary of the Rhine?": the thing asked about is the copula's other side
        head = next((c for c in wh_token.head.children
                     if c.i != wh_token.i and c.dep_ in ("nsubj", "attr") and c.pos_ in ("NOUN", "PROPN")), None)
    if head is None:
        return AnswerType.THING, word, ""
    lemma = head.lemma_.lower()
    kind = noun_type(lemma) if noun_type else None
    return kind or AnswerType.THING, word, lemma
