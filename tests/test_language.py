"""The language layer: the real spaCy pipeline, the question profile read off its parse, short
answers on the seed article, and abstention when the evidence misses what the question pins down."""

from __future__ import annotations

from datetime import date

import pytest

from qa_bot.language import AnswerType, NounTyper, analyse, nlp, short_answer
from qa_bot.language.kinds import holds_kind
from qa_bot.language.constraints import conflicting_modifiers, polarity_differs, unmet_constraints
from qa_bot.language.spans import SPAN_FEATURES, candidate_table
from qa_bot.settings import Tuning
from qa_bot.types import Citation
from conftest import SEED_ASKED_ON, write


def test_the_loaded_pipeline_is_explosions_en_core_web_sm_3_8_0():
    meta = nlp().meta
    assert meta["author"] == "Explosion"
    assert meta["version"] == "3.8.0"
    assert {"tagger", "parser", "ner", "lemmatizer"} <= set(nlp().pipe_names)


@pytest.mark.parametrize(
    "question, kind",
    [
        ("Who won the women's singles Wimbledon in 2019?", AnswerType.PERSON),
        ("When are the next talks?", AnswerType.DATE),
        ("Where is Perm located?", AnswerType.PLACE),
        ("How many people were injured in the overnight strikes?", AnswerType.QUANTITY),
        ("How low did temperatures fall in the Urals city that lost power?", AnswerType.QUANTITY),
        ("How much did the repairs cost?", AnswerType.QUANTITY),
        ("Why did the lights go out?", AnswerType.CAUSE),
        ("How did Zelensky characterize the first exchanges?", AnswerType.MANNER),
        ("Did the talks end early?", AnswerType.YES_NO),
        ("Is Abu Dhabi the venue of the next round?", AnswerType.YES_NO),
        ("Between the report from The Verge and the report from Wired, is there consistency in the focus?", AnswerType.YES_NO),
        ("Does the article say who won the match?", AnswerType.YES_NO),
        ("Considering the articles from The Verge and CNET, which company released the watch?", AnswerType.THING),
        ("What did the negotiators share?", AnswerType.THING),
        # the opening wh-word asks, a later "when" does not
        ("Who can enforce the law when states provide lesser rights?", AnswerType.PERSON),
    ],
)
def test_answer_type_from_the_parse(question, kind):
    assert analyse(question).answer_type is kind


@pytest.fixture(scope="module")
def typer(seed_bot):
    tuning = Tuning()
    return NounTyper(
        seed_bot.embedder.encode, tuning.type_min_cosine, tuning.type_min_margin, cause_min_cosine=tuning.cause_min_cosine
    )


@pytest.mark.parametrize(
    "question, kind, head",
    [
        ("Which city lost power first?", AnswerType.PLACE, "city"),
        ("What agency does Igor Kostyukov head?", AnswerType.ORGANISATION, "agency"),
        ("In which year did the war start?", AnswerType.DATE, "year"),
        ("Which company built the bridge?", AnswerType.ORGANISATION, "company"),
        ("What year was North America's first printing press started?", AnswerType.DATE, "year"),
        ("What other film city struggled as Jacksonville grew in popularity?", AnswerType.PLACE, "city"),
    ],
)
def test_which_noun_is_typed_by_the_embedding_model(typer, question, kind, head):
    profile = analyse(question, typer)
    assert (profile.answer_type, profile.head) == (kind, head)


@pytest.mark.parametrize(
    "question, cause",
    [
        ("What caused the outages in Perm?", True),
        ("What did Russian officials blame the Arctic blackouts on?", True),
        # what a cause brought about is not a cause; nor is what was said or used, nor a place
        ("What did the storm cause?", False),
        ("What did Zelensky say about the talks?", False),
        ("What did Putin try to use as a weapon?", False),
        ("Which Moscow suburb had outages blamed on overloaded transformers?", False),
    ],
)
def test_a_verb_of_causing_asks_a_cause(typer, question, cause):
    assert (analyse(question, typer).answer_type is AnswerType.CAUSE) is cause


@pytest.mark.parametrize(
    "question, direction",
    [
        ("When are the next talks?", 1),
        ("Where will the upcoming round be held?", 1),
        ("What was the latest casualty count?", -1),
        ("When was the most recent blackout?", -1),
        ("Who led the delegation?", 0),
        ("Which recent report named him?", 0),
    ],
)
def test_direction_points_ahead_of_or_behind_the_day_asked(question, direction):
    assert analyse(question).direction == direction


@pytest.mark.parametrize(
    "kind, sentence, expected",
    [
        (AnswerType.CAUSE, "Russian officials attributed the disruptions to an unexplained power surge.", True),
        (AnswerType.CAUSE, "The flights were cancelled because of fog.", True),
        (AnswerType.CAUSE, "Mysterious blackouts also occurred in the Russian Arctic region of Murmansk.", False),
        (AnswerType.DATE, "The garrison resisted until February 1082.", True),
        (AnswerType.DATE, "By the 1970s, the Brotherhood had renounced violence.", True),
        (AnswerType.DATE, "Its discharge reaches 1,000 m3/s at the border.", False),
        (AnswerType.QUANTITY, "Several people were injured.", False),
        (AnswerType.QUANTITY, "23 people were injured.", True),
        (AnswerType.PLACE, "The port of Taganrog lost power.", True),
        (AnswerType.PERSON, "the talks were held behind closed doors.", False),
        (AnswerType.THING, "23 people were injured in Kharkiv on Monday because of the strikes.", False),
        (AnswerType.YES_NO, "23 people were injured in Kharkiv on Monday because of the strikes.", False),
    ],
)
def test_a_sentence_holds_the_kind_asked_for(kind, sentence, expected):
    assert holds_kind(kind, sentence) is expected


@pytest.fixture(scope="module")
def kin_typer(seed_bot):
    tuning = Tuning()
    return NounTyper(
        seed_bot.embedder.encode, tuning.type_min_cosine, tuning.type_min_margin, tuning.kin_margin, tuning.kin_candidates
    )


@pytest.mark.parametrize(
    "question, sentence, parse_only, with_kin",
    [
        # the tree alone takes the agent of the passive; the embedding model knows munitions are weapons
        ("What weapon did the army use?",
         "The use by the army of cluster munitions in the town was condemned by the United Nations.",
         "the United Nations", "cluster munitions"),
        ("What crop failed?", "The failure of the wheat harvest in the south hit the farmers hardest.",
         "The failure of the wheat harvest", "the wheat harvest"),
    ],
)
def test_a_phrase_naming_a_kind_of_the_asked_noun_answers(kin_typer, question, sentence, parse_only, with_kin):
    profile = analyse(question, kin_typer)
    assert short_answer(profile, sentence).text == parse_only
    assert short_answer(profile, sentence, kin_typer.kin).text == with_kin


def test_kin_keeps_the_parse_choice_unless_another_is_much_nearer(kin_typer, typer):
    assert kin_typer.kin("weapon", ["the United Nations", "the town", "cluster munitions"]) == 2
    assert kin_typer.kin("weapon", ["rockets", "cluster munitions"]) == 0  # both weapons: the parse decides
    assert kin_typer.kin("weapon", ["the town"]) == 0
    assert typer.kin("weapon", ["the United Nations", "cluster munitions"]) == 0  # not configured: off


def test_constraints_years_numbers_and_names():
    profile = analyse("Who won the women's singles Wimbledon in 2019?")
    assert profile.years == {"2019"}
    assert "Wimbledon" in profile.entities
    assert profile.constraints[0] == "2019"
    numbers = analyse("How many seats did the party win in the 3 northern districts?")
    assert "3" in numbers.numbers and not numbers.years


def test_lemmas_negation_and_comparison():
    profile = analyse("Which intelligence chief headed Moscow's negotiating team?")
    assert {"head", "negotiate", "team", "chief"} <= profile.lemmas
    assert "which" not in profile.lemmas
    assert analyse("Which city did not lose power?").negated
    assert not analyse("Which city lost power?").negated
    assert analyse("Which city was colder than Perm?").comparison


@pytest.mark.parametrize(
    "question, expected",
    [
        ("When are the next talks?", "February 1"),
        ("Who led the Russian delegation?", "Kostyukov"),
        ("How many people were injured in the overnight strikes on Kyiv and Kharkiv?", "23"),
        ("How many people were killed in the overnight strikes on Kyiv and Kharkiv?", "one"),
        ("How cold did it get in Belgorod?", "-16°C"),
    ],
)
def test_short_answer_on_the_seed_article(seed_bot, question, expected):
    answer = seed_bot.ask(question, asked_on=SEED_ASKED_ON)
    assert not answer.abstained
    short = answer.short_answer
    assert short is not None and expected in short.text
    sentence = answer.citations[0].sentence
    assert sentence[short.start : short.end] == short.text  # offsets point into the cited sentence
    assert len(short.text) < len(sentence) / 2
    assert answer.to_dict()["short_answer"]["text"] == short.text


def test_every_short_answer_feature_has_a_fitted_weight():
    assert set(Tuning().span_weights) == set(SPAN_FEATURES)


def test_candidate_phrases_are_spans_of_the_sentence_with_one_row_of_features_each():
    sentence = "Russian officials attributed the disruptions to an unexplained power surge in Murmansk."
    texts, features = candidate_table(analyse("Who blamed the disruptions on a power surge?"), sentence)
    assert texts and all(t in sentence for t in texts)
    assert features.shape == (len(texts), len(SPAN_FEATURES))
    assert "the disruptions" not in texts  # the question names it: it answers nothing


@pytest.mark.parametrize(
    "question, prep",
    [
        ("In what year did the bridge open?", "in"),
        ("In which city were the talks held?", "in"),
        ("To whom did the minister write?", "to"),
        ("Who led the Russian delegation?", ""),
        ("How many people were injured?", ""),
    ],
)
def test_the_preposition_the_question_asks_with(question, prep):
    assert analyse(question).asked_prep == prep


def test_a_candidate_after_the_asked_preposition_is_marked(typer):
    profile = analyse("In what year did the bridge open?", typer)
    assert profile.answer_type is AnswerType.DATE
    sentence = "Planned since 1987, the bridge opened in 1995 after years of delay."
    texts, features = candidate_table(profile, sentence)
    marked = {t for t, row in zip(texts, features) if row[SPAN_FEATURES.index("same_prep")]}
    assert marked == {"1995"}, (texts, marked)
    answer = short_answer(profile, sentence)
    assert answer is not None and answer.text == "1995"


def test_the_short_answer_follows_the_weights():
    profile = analyse("Who met the delegation in Abu Dhabi?")
    sentence = "The negotiator Steve Witkoff met the delegation in Abu Dhabi on Friday."
    fitted = short_answer(profile, sentence)
    assert fitted is not None and fitted.text == "Steve Witkoff"
    # weights that reward a plain noun phrase where a name is asked for pick the one there is
    plain = short_answer(profile, sentence, tuning=Tuning(span_weights={"any_phrase": 1.0}))
    assert plain is not None and plain.text == "The negotiator"


def test_no_short_answer_when_the_sentence_holds_nothing_of_the_type():
    profile = analyse("When did the talks start?")
    assert short_answer(profile, "The talks were described as remarkably constructive.") is None
    # nor one the question already names
    assert short_answer(analyse("Who met Putin?"), "Putin was there.") is None


@pytest.mark.parametrize(
    "question, sentence, expected",
    [
        # the "of" phrase completes the noun; the relative clause the parser hangs off it does not
        ("What did the ministry announce?",
         "The ministry announced the start of new talks with Turkey, which had been delayed for months.",
         "the start of new talks"),
        # "what type of weapons": a noun phrase headed by the asked noun itself is the nearest answer
        ("What type of weapons did the army use?",
         "According to the report, the army used cluster weapons near the border town of Kupiansk.", "cluster weapons"),
        ("What conviction drove the senator?",
         "The senator was driven not by ambition but by deep religious convictions.", "deep religious convictions"),
    ],
)
def test_short_answer_phrases_end_where_the_parse_opens_another(question, sentence, expected):
    short = short_answer(analyse(question), sentence)
    assert short is not None and short.text == expected
    assert sentence[short.start : short.end] == expected


def _citation(text: str, title: str = "", published: date | None = None) -> Citation:
    return Citation(1, "d", title, text, 0, len(text), 1.0, published=published)


def test_unmet_constraints_name_the_missing_year():
    profile = analyse("Who won the women's singles Wimbledon in 2019?")
    passage = "Angelique Kerber won the women's singles title at Wimbledon in 2018, beating Serena Williams."
    assert unmet_constraints(profile, [_citation(passage)]) == ["2019"]
    assert unmet_constraints(profile, [_citation(passage.replace("2018", "2019"))]) == []
    # the published date carries a year too
    assert unmet_constraints(profile, [_citation(passage.replace(" in 2018", ""), published=date(2019, 7, 13))]) == []


def test_a_passage_about_another_year_is_refused(fresh_bot, tmp_path):
    _indexed(fresh_bot, tmp_path, "wimbledon.txt", (
        "Wimbledon 2018 results\n\n"
        "Angelique Kerber won the women's singles title at Wimbledon in 2018, beating Serena Williams in the final. "
        "Novak Djokovic won the men's singles title the same year, beating Kevin Anderson.\n"
    ))
    asked = fresh_bot.ask("Who won the women's singles Wimbledon in 2018?")
    assert not asked.abstained and "Kerber" in asked.short_answer.text
    other_year = fresh_bot.ask("Who won the women's singles Wimbledon in 2019?")
    assert other_year.abstained and not other_year.citations
    _only_the_rule_refuses(fresh_bot, tmp_path, "Who won the women's singles title at the US Open in 2018?", constraint_abstention=False)


def _indexed(bot, tmp_path, name: str, text: str) -> None:
    write(tmp_path / "docs" / name, text)
    bot.ingest([tmp_path / "docs"])


def _only_the_rule_refuses(bot, tmp_path, question: str, **rule_off) -> None:
    """The rule, not the evidence score, refuses the question: with the rule off (`rule_off`, the
    tuning that turns it off), the same index quotes an answer."""
    from qa_bot import QABot

    assert bot.ask(question).abstained
    lenient = QABot(index_dir=tmp_path / "index", tuning=Tuning(**rule_off))
    assert not lenient.ask(question).abstained


def test_a_sentence_about_another_one_of_the_asked_thing_conflicts():
    """"The mild drought" is not "the severe drought"; a sentence that also uses the question's word,
    or says nothing of which one, does not conflict, nor does a word of another kind."""
    mild = analyse("In what year did the Amazon experience another mild drought?")
    assert conflicting_modifiers(mild, "In 2010 the Amazon rainforest experienced another severe drought.") == [("mild", "severe")]
    assert conflicting_modifiers(mild, "In 2010 the Amazon experienced another mild drought, the second in five years.") == []
    assert conflicting_modifiers(mild, "In 2010 the Amazon experienced another drought.") == []
    border = analyse("How much water does the Rhine discharge at the French border?")
    assert conflicting_modifiers(border, "At the Dutch border the Rhine discharges 2,900 cubic metres a second.") == [("French", "Dutch")]
    cold = analyse("What are often associated with the transfer of cold?")
    assert conflicting_modifiers(cold, "Nonconservative forces are often associated with the transfer of heat.") == [("cold", "heat")]
    assert conflicting_modifiers(cold, "Such forces are often associated with the transfer of cold air.") == []
    # an adjective against a name is not one of the same kind: "the Amazon drainage basin", "the Amazonas Basin"
    basin = analyse("Where did water to the west of the Amazon drainage basin flow?")
    assert conflicting_modifiers(basin, "To the west, water flowed toward the Pacific across the Amazonas Basin.") == []


def test_numbers_spelled_out_say_which_one_too():
    """spaCy lists "third" and "first" as stop words; as modifiers they still say which one is meant.
    A number written in words and one in digits may be the same number, so they never conflict."""
    empire = analyse("When was the third German empire founded?")
    assert conflicting_modifiers(empire, "Prussia unified the states into the second German Empire in 1871.") == [("third", "second")]
    assert conflicting_modifiers(empire, "The third German Empire was proclaimed in 1933.") == []
    war = analyse("What was the defeat of the Arab troops during the Seven-Day War?")
    assert conflicting_modifiers(war, "The defeat of the Arab troops during the Six-Day War was pivotal.") == [("Seven", "Six")]
    penny = analyse("How many of the one-cent coins are in circulation?")
    assert conflicting_modifiers(penny, "The mint ended a 233-year run of the 1-cent coin.") == []


def test_a_sentence_about_another_one_is_refused_but_the_same_one_answered(fresh_bot, tmp_path):
    _indexed(fresh_bot, tmp_path, "rhine.txt", (
        "The Rhine in numbers\n\n"
        "At the Dutch border the Rhine discharges about 2,900 cubic metres of water a second. "
        "The river is navigable from Basel to the North Sea.\n"
    ))
    same = fresh_bot.ask("How much water does the Rhine discharge at the Dutch border?")
    assert not same.abstained and "2,900" in same.text
    _only_the_rule_refuses(
        fresh_bot, tmp_path, "How much water does the Rhine discharge at the French border?", modifier_abstention=False
    )


def test_polarity_differs_only_for_a_negated_question_over_a_sentence_that_negates_nothing():
    negated = analyse("Which treaty did Hungary not sign?")
    assert polarity_differs(negated, "Hungary signed the Lisbon Treaty in 2007.")
    assert not polarity_differs(negated, "Hungary did not sign the Lisbon Treaty.")
    assert not polarity_differs(negated, "Hungary never signed the Lisbon Treaty.")
    assert not polarity_differs(analyse("Which treaty did Hungary sign?"), "Hungary signed the Lisbon Treaty in 2007.")


def test_a_negated_question_is_not_answered_by_what_did_happen(fresh_bot, tmp_path):
    _indexed(fresh_bot, tmp_path, "summit.txt", (
        "EU summit in Brussels\n\n"
        "At the summit in Brussels, Hungary signed the migration pact after a long night of talks. "
        "Poland voted against the budget, diplomats said.\n"
    ))
    asked = fresh_bot.ask("Which pact did Hungary sign at the summit in Brussels?")
    assert not asked.abstained
    _only_the_rule_refuses(
        fresh_bot, tmp_path, "Which pact did Hungary not sign at the summit in Brussels?", polarity_min_support=0.0
    )


@pytest.mark.parametrize("question, yes_no", [
    # long questions the small parser reads with "Has"/"Did" as the main verb
    ("Has the refund policy of the bookmakers, as reported by the Daily Ledger, remained the same after the "
     "article on betting apps published on October 24, 2023, compared to the report of November 6, 2023?", True),
    ("Did the Morning Post article about the ferry strike report a longer delay than the Evening Star article "
     "about the bridge closure in the same week?", True),
    ("Between the report from the Ledger on 2023-10-02 and the one on 2023-11-06, has the explanation of what "
     "travellers can claim remained consistent?", True),
    ("Is the harbour open again?", True),
    # a question opening with a clause is not yes/no for that: the wh-word asks
    ("Considering the reports of the Ledger and the Post on the singer, which network did she appear on for an "
     "interview?", False),
    ("Who has led the delegation since March?", False),
    ("Does the article say who won the race?", True),
])
def test_one_yes_no_reading_for_every_step(question, yes_no):
    """The profile is the one yes/no detector; the LLM answerer reads it (it had its own regex)."""
    assert analyse(question).yes_no is yes_no
