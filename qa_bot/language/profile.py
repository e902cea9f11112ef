"""`QuestionProfile`: what a question asks for and what it pins down, read off spaCy's parse once
per question. Retrieval boosts, evidence selection, the answerers and the constraint check read it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol

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
WH_TAGS = frozenset({"WDT", "WP", "WP$", "WRB"})
# the verbs that also serve as auxiliaries: the closed class English inverts to ask yes or no
_AUXILIARY_LEMMAS = frozenset({"be", "do", "have"})
# entity labels a question names as a constraint (dates and numbers are handled as such)
NAMED_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "WORK_OF_ART", "PRODUCT", "LAW"})
_IN_NOUN_PHRASE = frozenset({"NOUN", "PROPN", "ADJ", "NUM", "DET", "ADV", "PUNCT"})
_YEAR = re.compile(r"^(1\d{3}|20\d{2})s?$")

# the words that point a question at the days after, or before, the day it is asked ("the *next*
# talks", "the *latest* figures"); "recent" only as "most recent"
_AHEAD = frozenset({"next", "upcoming", "forthcoming"})
_BEHIND = frozenset({"last", "latest"})


class WordTyper(Protocol):
    """Types the words a question asks with (the embedding model does it in the pipeline)."""

    def __call__(self, noun: str) -> AnswerType | None:
        """The type of the noun of "which/what X" ("port": a place), None for none."""

    def causal(self, verb: str) -> bool:
        """Whether the verb names a causing ("cause", "blame"): "what *caused* it" asks a cause."""


@dataclass(frozen=True)
class QuestionProfile:
    """Everything the pipeline needs to know about one question, from one parse."""

    text: str
    answer_type: AnswerType
    wh: str  # the wh-word ("which", "how many", …), "" for yes/no and wh-less questions
    head: str  # the noun the wh-word asks about ("which *fleet*"), its lemma; "" when none
    kind_words: str  # the words the wh-word determines ("which *news outlet*"), "" when none: the
    # answer need not repeat them
    heads: frozenset[str]  # it and the noun it is a kind of ("what type *of numbers*")
    lemmas: frozenset[str]  # content lemmas, lower-cased
    verbs: frozenset[str]  # lemmas of its main verbs ("led", "injured"): the answer hangs off them
    role: str  # the asked-for thing's role: "subj", "obj" or "" ("what did they *share*" asks an object)
    asked_prep: str  # the preposition the asked-for phrase is the object of ("*in* what year"), "" when none
    years: frozenset[str]  # "2019": evidence must carry it
    numbers: frozenset[str]  # other numerals the question names ("22nd", "3")
    entities: tuple[str, ...]  # named entities the question names, as written
    nouns: tuple[str, ...]  # the words that name things (nouns, proper nouns), as written: a wording
    # changes its verbs and adjectives more readily than what it is about
    yes_no: bool
    negated: bool
    comparison: bool
    direction: int  # +1: looks ahead of the day asked ("next talks"), -1: back ("latest figures"), 0

    @property
    def constraints(self) -> tuple[str, ...]:
        """The hard constraints, years first: what an answer's evidence must carry."""
        return tuple(sorted(self.years)) + tuple(sorted(self.numbers - self.years)) + self.entities


def analyse(question: str, noun_type: WordTyper | None = None) -> QuestionProfile:
    """The profile of `question`. `noun_type` types the head noun of "which/what X" questions
    (the embedding model does it in the pipeline: "fleet" is an organisation, "port" a place)."""
    doc = parse(question.strip())
    wh_token = next((t for t in doc if t.tag_ in WH_TAGS), None)
    yes_no = _is_yes_no(doc, wh_token)
    answer_type, wh, head_token = _answer_type(doc, wh_token, yes_no, noun_type)
    head = head_token.lemma_.lower() if head_token is not None else ""
    heads = {head} if head else set()
    for token in doc:
        if head and token.lemma_.lower() == head:
            heads.update(g.lemma_.lower() for p in token.children if p.dep_ == "prep" and p.lower_ == "of"
                         for g in p.children if g.dep_ == "pobj")
    asked_span = {t.i for t in _asking_tokens(doc, wh_token)}
    lemmas = frozenset(
        t.lemma_.lower() for t in doc
        if t.i not in asked_span and content_word(t) and t.tag_ not in WH_TAGS
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
        kind_words=_kind_words(doc, wh_token, head_token),
        heads=frozenset(heads),
        lemmas=lemmas,
        verbs=frozenset(t.lemma_.lower() for t in doc if t.pos_ == "VERB" and t.i not in asked_span),
        role=_role(wh_token),
        asked_prep=preposition_of(_phrase_root(wh_token)) if wh_token is not None else "",
        years=years,
        numbers=frozenset(numbers),
        entities=entities,
        nouns=tuple(t.text for t in doc if t.pos_ in ("NOUN", "PROPN") and t.i not in asked_span),
        yes_no=yes_no,
        negated=any(t.dep_ == "neg" for t in doc),
        comparison=any(t.tag_ in ("JJR", "JJS", "RBR", "RBS") for t in doc if t.i not in asked_span),
        direction=_direction(doc),
    )


def _direction(doc: Doc) -> int:
    words = [t.lower_ for t in doc]
    if any(w in _AHEAD for w in words):
        return 1
    if any(w in _BEHIND for w in words) or any(
        t.lower_ == "recent" and t.i > 0 and doc[t.i - 1].lower_ == "most" for t in doc
    ):
        return -1
    return 0


def _kind_words(doc: Doc, wh_token: Token | None, head: Token | None) -> str:
    """The common nouns and adjectives from the wh-word to the noun it determines ("which *news
    outlet*", "what *other film city*"); names there ("which *NFL* team") are what the evidence must say."""
    if wh_token is None or head is None or head.i <= wh_token.i or head.i - wh_token.i > 4:
        return ""
    words = doc[wh_token.i + 1 : head.i + 1]
    if any(t.pos_ not in _IN_NOUN_PHRASE for t in words):  # "what is the major *tributary*": a clause between
        return ""
    if head.dep_ in ("nsubj", "nsubjpass") and head.head.pos_ == "VERB" and head.head.i == head.i + 1:
        return ""  # "what *researcher* showed …": the subject of what is said, which the evidence names
    return " ".join(t.text for t in words if t.pos_ in ("NOUN", "ADJ"))


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


def content_word(token: Token) -> bool:
    """Neither a stop word nor punctuation nor space: a word that says what about."""
    return not (token.is_stop or token.is_punct or token.is_space)


def says_something(token: Token) -> bool:
    """A content word, or a number even where spaCy's stop list has it ("third", "one"): what a
    phrase says, and which one of a thing a modifier picks."""
    return content_word(token) or token.like_num


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


# the dependencies inside a noun phrase, and the words that head one ("how" → "many" → "people")
_INSIDE_PHRASE = frozenset({"det", "advmod", "amod", "nummod", "compound", "poss", "npadvmod", "quantmod"})
_PHRASE_HEADS = frozenset({"NOUN", "PROPN", "ADJ", "NUM", "PRON", "ADV"})


def _phrase_root(token: Token) -> Token:
    """The root of the noun phrase a word is inside ("how" → "many" → "*people*")."""
    while token.dep_ in _INSIDE_PHRASE and token.head.i != token.i and token.head.pos_ in _PHRASE_HEADS:
        token = token.head
    return token


def preposition_of(root: Token) -> str:
    """The preposition a phrase (given by its root) is the object of, "" for none: one reading for a
    question's asked phrase ("*in* what year") and an evidence sentence's candidates ("*in* 1995")."""
    while root.dep_ in ("conj", "appos") and root.head.i != root.i:  # "A and *B*", "A, *the capital*": as A
        root = root.head
    # the parser files "in what *year*" as either
    return root.head.lower_ if root.dep_ in ("pobj", "pcomp") and root.head.pos_ == "ADP" else ""


def _asking_tokens(doc: Doc, wh_token: Token | None) -> list[Token]:
    """The words that ask rather than say what about: "how *many*", "which" itself."""
    if wh_token is None:
        return []
    out = [wh_token]
    if wh_token.lower_ == "how" and wh_token.i + 1 < len(doc) and doc[wh_token.i + 1].pos_ in ("ADJ", "ADV"):
        out.append(doc[wh_token.i + 1])
    return out


def _answer_type(
    doc: Doc, wh_token: Token | None, yes_no: bool, noun_type: WordTyper | None
) -> tuple[AnswerType, str, Token | None]:
    if yes_no:
        return AnswerType.YES_NO, "", None
    if wh_token is None:
        return AnswerType.THING, "", None
    word = wh_token.lower_
    if word in _WH_TYPE:
        return _WH_TYPE[word], word, None
    if word == "how":
        degree = degree_word(wh_token)
        if degree is not None:
            return AnswerType.QUANTITY, f"how {degree.lower_}", None
        return AnswerType.MANNER, "how", None
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
        return (AnswerType.CAUSE if _asks_a_cause(wh_token, noun_type) else AnswerType.THING), word, None
    kind = noun_type(head.lemma_.lower()) if noun_type else None
    return kind or AnswerType.THING, word, head


def degree_word(wh_token: Token) -> Token | None:
    """The adjective or adverb a "how" asks the degree of ("how *many*", "how *far*"); None for any
    other wh-word, and for "how" asking a manner or "how come"."""
    doc = wh_token.doc
    nxt = doc[wh_token.i + 1] if wh_token.i + 1 < len(doc) else None
    if wh_token.lower_ == "how" and nxt is not None and nxt.pos_ in ("ADJ", "ADV") and nxt.lower_ != "come":
        return nxt
    return None


def _asks_a_cause(wh_token: Token, noun_type: WordTyper | None) -> bool:
    """The wh-word is the subject of a verb of causing ("what *caused* the outages?") or the object
    its stranded preposition lost ("what did officials *blame* the outages *on*?")."""
    verb = wh_token.head
    if noun_type is None or verb.pos_ != "VERB":
        return False
    stranded = wh_token.dep_ == "dobj" and any(
        c.dep_ == "prep" and not any(g.dep_ == "pobj" for g in c.children) for c in verb.children
    )
    return (wh_token.dep_ in ("nsubj", "nsubjpass") or stranded) and noun_type.causal(verb.lemma_.lower())
