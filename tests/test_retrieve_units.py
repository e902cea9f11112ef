import pytest

from qa_bot.chat.condense import condense
from qa_bot.retrieve.fusion import reciprocal_rank_fusion
from qa_bot.language import AnswerType, analyse
from qa_bot.types import Chunk, ScoredChunk


def ranked(*ids, dense=True):
    return [
        ScoredChunk(Chunk(i, "d", i, 0, 1), 1.0, dense_rank=r if dense else None, lexical_rank=None if dense else r)
        for r, i in enumerate(ids)
    ]


def test_rrf_rewards_agreement_between_lists():
    fused = reciprocal_rank_fusion([ranked("a", "b", "c"), ranked("b", "x", "c", dense=False)], k=60)
    assert [s.chunk.chunk_id for s in fused] == ["b", "c", "a", "x"]
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1].score == pytest.approx(2 / 63)
    assert (fused[0].dense_rank, fused[0].lexical_rank) == (1, 0)


@pytest.mark.parametrize("rankings", [[], [[]], [[], []]])
def test_rrf_of_nothing_is_nothing(rankings):
    assert reciprocal_rank_fusion(rankings) == []


def test_rrf_one_list_keeps_its_order_and_rejects_bad_k():
    assert [s.chunk.chunk_id for s in reciprocal_rank_fusion([ranked("z", "y")])] == ["z", "y"]
    with pytest.raises(ValueError, match="k must be > 0, got 0"):
        reciprocal_rank_fusion([ranked("a")], k=0)


HISTORY_PERSON = [
    {"role": "user", "content": "Who led the Russian delegation in Abu Dhabi?"},
    {"role": "assistant", "content": "Admiral Igor Kostyukov led the Russian delegation [1]."},
]
HISTORY_SCENE = [
    {"role": "user", "content": "How many people were killed in the overnight strikes on Kyiv and Kharkiv?"},
    {"role": "assistant", "content": "One person was killed [1]."},
]


@pytest.mark.parametrize(
    "question, history, expected",
    [
        ("What agency does he head?", HISTORY_PERSON, "What agency does Igor Kostyukov head?"),
        ("What did his team say?", HISTORY_PERSON, "What did Igor Kostyukov's team say?"),
        # the person is the one the parser names, not the first capitalised word
        ("Where was he trained?", [
            {"role": "user", "content": "Who heads the GRU?"},
            {"role": "assistant", "content": "Moscow appointed Igor Kostyukov to head the GRU [1]."},
        ], "Where was Igor Kostyukov trained?"),
        ("OK, and how many homes?", [{"role": "user", "content": "When did the power grid fail in Perm?"}],
         "How many homes in Perm?"),
        ("And how many were injured?", HISTORY_SCENE, "How many were injured in the overnight strikes on Kyiv and Kharkiv?"),
        ("And where?", [{"role": "user", "content": "When are the next talks?"}], "Where are the next talks?"),
        ("Why?", [{"role": "user", "content": "When did the power grid fail in Perm?"}], "Why did the power grid fail in Perm?"),
        ("Who led the Russian delegation?", [], "Who led the Russian delegation?"),
        ("Who governs Belgorod province today?", HISTORY_SCENE, "Who governs Belgorod province today?"),
    ],
)
def test_condense_follow_ups(question, history, expected):
    assert condense(question, history) == expected


def test_question_words_leave_out_the_asked_for_quantity():
    from qa_bot.answer.select import EvidenceQuery
    from qa_bot.text import terms

    query = EvidenceQuery.of(analyse("How many days did the Warsaw Uprising last?"), lambda term: 1.0)
    assert set(terms("days Warsaw Uprising")) <= query.required
    assert not set(terms("many")) & query.required  # "how many" says what is asked, not about what
    assert query.kind is AnswerType.QUANTITY


def test_the_words_naming_the_asked_kind_are_welcome_not_required():
    from qa_bot.answer.select import EvidenceQuery
    from qa_bot.text import terms

    query = EvidenceQuery.of(analyse("Which news outlet did the story appear in?"), lambda term: 1.0)
    assert set(terms("news outlet")) == query.optional
    assert set(terms("story appear")) == query.required
    # the subject of what is said is who the evidence names: required
    query = EvidenceQuery.of(analyse("What researcher showed that air is needed for combustion?"), lambda term: 1.0)
    assert not query.optional and set(terms("researcher")) <= query.required


def test_only_a_noun_the_index_never_uses_puts_a_question_off_topic():
    """A thing the articles never name ("population") marks the question down; a verb or an
    adjective they never use ("take place", "characterize", "first") is how a rewording reads."""
    from qa_bot.answer.select import EvidenceQuery
    from qa_bot.text import terms

    def idf_without(*words: str):
        unseen = set(terms(" ".join(words))) | {"\x00"}
        return lambda term: 9.0 if term in unseen else 1.0

    off = EvidenceQuery.of(analyse("What is the population of Abu Dhabi?"), idf_without("population"))
    assert off.off_topic
    reworded = EvidenceQuery.of(analyse("Where did the negotiations take place?"), idf_without("take"))
    assert not reworded.off_topic and set(terms("take")) <= reworded.required
    described = analyse("How did the Ukrainian president characterize the first exchanges?")
    assert not EvidenceQuery.of(described, idf_without("characterize", "first")).off_topic
    assert EvidenceQuery.of(described, idf_without("exchanges")).off_topic
    # the kind of thing asked for is no topic: "which port" is answered by a name, not the word
    assert not EvidenceQuery.of(analyse("Which port was blockaded?"), idf_without("port")).off_topic


def test_a_negated_question_is_read_off_the_parse():
    from qa_bot.answer.select import EvidenceQuery

    assert EvidenceQuery.of(analyse("Which treaty did Hungary not sign?"), lambda term: 1.0).negated
    assert EvidenceQuery.of(analyse("Which treaty didn't Hungary sign?"), lambda term: 1.0).negated
    assert not EvidenceQuery.of(analyse("Which treaty did Hungary sign?"), lambda term: 1.0).negated


def test_boosts_take_their_weights_from_the_tuning():
    """The type and recency boosts are Tuning constants (settings and QA_BOT_TUNING reach them)."""
    from datetime import date

    from qa_bot.retrieve.boosts import boost
    from qa_bot.settings import Tuning

    dated = ScoredChunk(Chunk("a", "d", "The talks resume on 1 February.", 0, 1, published=date(2026, 1, 1)), 1.0)
    plain = ScoredChunk(Chunk("b", "e", "The talks were constructive.", 0, 1, published=date(2026, 1, 25)), 1.05)
    profile, asked_on = analyse("When are the talks?"), date(2026, 1, 25)
    assert [s.chunk.chunk_id for s in boost([plain, dated], profile, asked_on, tuning=Tuning(recency_boost=0))] == ["a", "b"]
    assert [s.chunk.chunk_id for s in boost([plain, dated], profile, asked_on, tuning=Tuning(type_boost=0))] == ["b", "a"]
    # without the question's profile only recency counts
    assert [s.chunk.chunk_id for s in boost([plain, dated], None, asked_on, tuning=Tuning(recency_boost=0))] == ["b", "a"]
    assert boost([plain], profile, asked_on, tuning=Tuning(recency_boost=1.0))[0].score == pytest.approx(1.05 * 2)
