"""The citation check, on sentences of the seed article: pure functions, no model."""

import pytest

from qa_bot.answer.verify import markers, split_claims, strip_markers, verify, yes_no

TALKS = "New meetings are slated for February 1 in Abu Dhabi, followed by sessions in Moscow or Kyiv."
DELEGATION = (
    "The talks in Abu Dhabi were facilitated by a high-level Russian delegation led by Admiral Igor "
    "Kostyukov, head of the GRU military intelligence."
)
BELGOROD = "The Russian city of Belgorod, already under heavy bombardment, experienced temperatures as low as -16°C."
PASSAGES = {1: TALKS, 2: DELEGATION, 3: BELGOROD}


def test_markers_and_claims_are_parsed():
    assert markers("Abu Dhabi [1][3], then Moscow [2, 3].") == [1, 3, 2, 3]
    assert strip_markers("Abu Dhabi [1].") == "Abu Dhabi."
    claims = split_claims("Talks resume on February 1 [1]. Kostyukov leads [2].")
    assert [(c.text, c.cited) for c in claims] == [("Talks resume on February 1", (1,)), ("Kostyukov leads.", (2,))]
    assert yes_no("yes, they did [1]") == "Yes" and yes_no("Not sure") is None


@pytest.mark.parametrize(
    "answer",
    ["February 1 [1]", "Admiral Igor Kostyukov [2]", "-16°C [3]", "−16°C [3]", "The GRU [2]",
     "Kostyukov led the delegation [2]. Talks follow on February 1 [1].", "Abu Dhabi [1][2]"],
)
def test_supported_answers_pass(answer):
    verdict = verify(answer, PASSAGES, "any question")
    assert verdict.ok, verdict.reason


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("February 1", "cites no passage"),
        ("February 1 [2]", "does not support"),  # true, but not in the passage it cites
        ("February 2 [1]", "does not support"),  # a changed number
        ("-21°C [3]", "does not support"),
        ("Sergei Lavrov [2]", "does not support"),
        ("Abu Dhabi [7]", "not one of the passages"),
        ("Kostyukov led the delegation [2]. Lavrov joined him [2].", "does not support"),
        ("PWNED [1]", "does not support"),
    ],
)
def test_unsupported_answers_fail_with_a_reason(answer, why):
    verdict = verify(answer, PASSAGES, "any question")
    assert not verdict.ok and why in verdict.reason


def test_unmarked_sentence_is_read_against_the_cited_passages():
    assert verify("Kostyukov heads the GRU. He led the delegation [2].", PASSAGES, "q").ok
    assert not verify("Putin attended. Kostyukov led the delegation [2].", PASSAGES, "q").ok


def test_yes_no_needs_the_question_subject_in_the_cited_passage():
    question = "Did Admiral Kostyukov lead the Russian delegation in Abu Dhabi?"
    assert verify("Yes [2]", PASSAGES, question, is_yes_no=True).ok
    assert verify("No [2]", PASSAGES, question, is_yes_no=True).ok  # what it is about is checked, not the verdict
    off_topic = verify("Yes [3]", PASSAGES, question, is_yes_no=True)
    assert not off_topic.ok and "do not mention" in off_topic.reason
    assert not verify("Kostyukov [2]", PASSAGES, question, is_yes_no=True).ok  # not a yes/no reply
    assert not verify("Yes", PASSAGES, question, is_yes_no=True).ok  # no citation
    assert not verify("Yes [2]", PASSAGES, "any question").ok  # "yes" is no answer to a wh-question
