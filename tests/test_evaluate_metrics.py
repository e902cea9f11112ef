"""The metric values, checked against numbers worked out by hand on a made-up set of six questions
where each metric has a way to fail: a wrong answer, a wrong citation, evidence found only at rank
6, a false abstention and a missed one."""

import pytest

from qa_bot.evaluate.gold import GoldQuestion
from qa_bot.evaluate.metrics import (
    METRIC_KEYS,
    Passage,
    Prediction,
    aggregate,
    contains_answer,
    exact_match,
    is_relevant,
    normalize_answer,
    percentile,
    score_question,
    summarize,
    token_f1,
)

ABU = Passage("d1", "Negotiators met for talks in Abu Dhabi on Friday.", "d1#0")
INJURED = Passage("d1", "The strikes killed one person and injured 23 others.", "d1#1")
KYIV = Passage("d3", "Later sessions in Kyiv are possible.", "d3#0")
OTHER = Passage("d3", "The weather was cold across the region.", "d3#1")
DATE = Passage("d2", "New meetings are slated for February 1.", "d2#0")
FILLER = [Passage("d4", f"Unrelated passage {i}.", f"d4#{i}") for i in range(4)]


def gold(qid, answers, kind, evidence_text=(), evidence_ids=(), answerable=True):
    return GoldQuestion(qid, f"question {qid}?", tuple(answers), answerable, tuple(evidence_ids), tuple(evidence_text), kind)


def pred(qid, answer, abstained=False, cited=(), retrieved=(), latency=0.0):
    return Prediction(qid, answer, abstained, tuple(cited), tuple(retrieved), latency)


CASES = [
    # right answer, right citation, evidence at rank 1
    (gold("q1", ["Abu Dhabi"], "factoid", ["talks in Abu Dhabi"]),
     pred("q1", "The talks were held in Abu Dhabi.", cited=[ABU], retrieved=[ABU, OTHER, KYIV], latency=10)),
    # wrong answer, wrong citation, evidence at rank 2
    (gold("q2", ["23"], "factoid", ["injured 23 others"]),
     pred("q2", "One person was killed.", cited=[OTHER], retrieved=[OTHER, INJURED], latency=20)),
    # exact answer; relevance by document id; evidence only at rank 6; one of two citations relevant
    (gold("q3", ["February 1"], "temporal", evidence_ids=["d2"]),
     pred("q3", "February 1", cited=[DATE, ABU], retrieved=[ABU, *FILLER, DATE], latency=30)),
    # a false abstention: the evidence was there at rank 1
    (gold("q4", ["Kyiv"], "temporal", ["sessions in Kyiv"]),
     pred("q4", "The articles do not say; sessions in Kyiv", abstained=True, retrieved=[KYIV], latency=40)),
    # a missed abstention
    (gold("q5", [], "unanswerable", answerable=False),
     pred("q5", "Putin met Zelensky.", cited=[OTHER], retrieved=[OTHER], latency=50)),
    # a right abstention
    (gold("q6", [], "unanswerable", answerable=False),
     pred("q6", "The articles do not say.", abstained=True, retrieved=[OTHER], latency=100)),
]


@pytest.fixture
def scores():
    return [score_question(g, p) for g, p in CASES]


def test_normalisation_is_squad_style_and_unicode_aware():
    assert normalize_answer("  The Abu-Dhabi  talks!") == "abu dhabi talks"
    assert normalize_answer("−16°C") == normalize_answer("-16°C") == normalize_answer("–16 °C".replace(" ", ""))
    assert normalize_answer("An 'unexplained' power surge.") == "unexplained power surge"
    assert normalize_answer("Yes [1][2]") == "yes"  # citation markers are not answer words
    assert exact_match("Kostyukov [1]", "Kostyukov") and token_f1("Yes [1]", "Yes") == 1.0


def test_token_f1_by_hand():
    # prediction tokens: talks are on february 1 (5); gold: february 1 (2); common 2
    # precision 2/5, recall 1 -> F1 = 2 * 0.4 * 1 / 1.4
    assert token_f1("The talks are on February 1", "February 1") == pytest.approx(0.8 / 1.4)
    assert token_f1("Abu Dhabi", "abu dhabi.") == 1.0
    assert token_f1("One person", "23") == 0.0
    assert exact_match("the GRU", "GRU") and not exact_match("GRU chief", "GRU")


def test_containment_is_on_whole_words():
    assert contains_answer("It injured 23 others.", "23")
    assert not contains_answer("About 1230 people left.", "23")
    assert contains_answer("It fell to −16°C overnight.", "-16°C")
    assert not contains_answer("anything", "the")  # a gold answer that normalises to nothing never matches


def test_relevance_by_text_then_by_document():
    curly = gold("x", ["y"], "t", ["Putin’s strategy of using winter"])
    assert is_relevant(Passage("z", "It was Putin's  strategy\nof using winter as a weapon."), curly)
    assert not is_relevant(Passage("z", "Putin spoke about winter."), curly)
    by_id = gold("x", ["y"], "t", evidence_ids=["d2"])
    assert is_relevant(Passage("d2", "anything"), by_id) and not is_relevant(Passage("d1", "anything"), by_id)


def test_per_question_scores_by_hand(scores):
    s1, s2, s3, s4, s5, s6 = scores
    assert (s1.first_relevant_rank, s1.contained, s1.exact) == (1, True, False)
    assert s1.f1 == pytest.approx(0.5)  # talks were held in abu dhabi (6) vs abu dhabi (2): P 1/3, R 1
    assert s1.failures == ()
    assert (s2.first_relevant_rank, s2.contained, s2.f1, s2.cited, s2.cited_relevant) == (2, False, 0.0, 1, 0)
    assert s2.failures == ("wrong answer", "no relevant citation")
    assert (s3.first_relevant_rank, s3.exact, s3.f1, s3.cited, s3.cited_relevant) == (6, True, 1.0, 2, 1)
    assert s3.failures == ("evidence not in top 5",)
    assert (s4.contained, s4.f1, s4.exact) == (False, 0.0, False)  # an abstention scores nothing, even if it quotes
    assert s4.failures == ("false abstention",)
    assert s5.failures == ("missed abstention",) and not s5.abstention_correct
    assert s6.failures == () and s6.abstention_correct and not s6.scored_retrieval


def test_headline_metrics_by_hand(scores):
    m = aggregate(scores)
    assert set(m) == set(METRIC_KEYS)
    assert m["n"] == 6 and m["n_answerable"] == 4
    # retrieval over q1-q4: first relevant ranks 1, 2, 6, 1
    assert m["evidence_hit@1"] == pytest.approx(2 / 4)
    assert m["evidence_hit@5"] == pytest.approx(3 / 4)
    assert m["mrr"] == pytest.approx(round((1 + 1 / 2 + 1 / 6 + 1) / 4, 4))
    # answers over q1-q4: contained yes/no/yes/no; F1 0.5, 0, 1, 0; exact only q3
    assert m["answer_contained"] == pytest.approx(0.5)
    assert m["answer_f1"] == pytest.approx(0.375)
    assert m["exact_match"] == pytest.approx(0.25)
    # citations over q1-q4: relevant/cited 1/1, 0/1, 1/2, 0/0 -> 2/4; questions with a relevant one: q1, q3
    assert m["citation_precision"] == pytest.approx(0.5)
    assert m["citation_recall"] == pytest.approx(0.5)
    # abstention: right on q1, q2, q3, q6; wrong on q4 (false) and q5 (missed)
    assert m["abstention_accuracy"] == pytest.approx(round(4 / 6, 4))
    assert m["false_abstention_rate"] == pytest.approx(0.25)
    # latencies 10 20 30 40 50 100: median (30+40)/2; p95 at position 4.75 -> 50 + 0.75*50
    assert m["latency_ms_p50"] == pytest.approx(35.0)
    assert m["latency_ms_p95"] == pytest.approx(87.5)


def test_by_type_and_empty_denominators(scores):
    by_type = summarize(scores)["by_type"]
    assert list(by_type) == ["factoid", "temporal", "unanswerable"]
    assert by_type["factoid"]["mrr"] == pytest.approx(0.75)
    assert by_type["temporal"]["evidence_hit@5"] == pytest.approx(0.5)
    assert by_type["temporal"]["false_abstention_rate"] == pytest.approx(0.5)
    unanswerable = by_type["unanswerable"]
    assert unanswerable["abstention_accuracy"] == pytest.approx(0.5)
    # no answerable questions: the answer metrics are undefined, not zero
    assert unanswerable["answer_f1"] is None and unanswerable["citation_precision"] is None
    assert aggregate([])["n"] == 0 and aggregate([])["answer_f1"] is None


def test_a_perfect_run_scores_one(scores):
    right = [score_question(g, pred(g.id, "February 1", cited=[DATE], retrieved=[DATE])) for g, _ in CASES[2:3]]
    m = aggregate(right)
    assert all(m[k] == 1.0 for k in ("evidence_hit@1", "mrr", "answer_contained", "answer_f1", "exact_match",
                                     "citation_precision", "citation_recall", "abstention_accuracy"))
    assert m["false_abstention_rate"] == 0.0


def test_percentile_edges():
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    assert percentile([1.0, 2.0], 50) == 1.5


def test_halves_are_disjoint_complete_and_fixed_by_the_id():
    from qa_bot.evaluate.gold import GoldQuestion
    from qa_bot.evaluate.split import half, select_split

    gold = [GoldQuestion(id=f"q{i}", question="?", answers=("a",), answerable=True) for i in range(200)]
    tune, check = select_split(gold, "tune"), select_split(gold, "check")
    assert {q.id for q in tune}.isdisjoint(q.id for q in check)
    assert len(tune) + len(check) == 200 and 70 < len(tune) < 130  # a hash, not a cut: about half each
    assert select_split(list(reversed(gold)), "tune") == list(reversed(tune))  # order does not matter
    assert select_split(gold, "all") == gold
    # sha256 parity, written out: the halves never move between runs or machines
    import hashlib

    assert all(half(q.id) == ("tune" if hashlib.sha256(q.id.encode()).digest()[-1] % 2 == 0 else "check") for q in gold)
