"""Reading gold sets: the real ones parse; a bad line is named by file and line number."""

import json

import pytest

from conftest import SHARED_EVAL, write
from qa_bot.errors import InputError
from qa_bot.evaluate.gold import corpus_ids, read_questions

GOOD = {"id": "g1", "question": "When?", "answers": ["Feb 1"], "answerable": True, "evidence_ids": ["d1"],
        "evidence_text": ["Feb 1"], "type": "temporal", "asked_on": "2026-01-25",
        "history": [{"role": "user", "content": "Hi"}]}


@pytest.mark.parametrize("name", ["seed", "squad2", "multihop_rag", "realtimeqa"])
def test_shared_dev_sets_parse(name):
    questions = read_questions(SHARED_EVAL / name / "questions.jsonl")
    assert len(questions) >= 30
    assert all(q.answers for q in questions if q.answerable)
    assert len({q.id for q in questions}) == len(questions)


def test_seed_fields_are_kept():
    by_id = {q.id: q for q in read_questions(SHARED_EVAL / "seed" / "questions.jsonl")}
    follow_up = by_id["s28"]
    assert follow_up.asked_on == "2026-01-25" and follow_up.history[0]["role"] == "user"
    assert sum(not q.answerable for q in by_id.values()) == 2
    assert "000_c9922a98c24bf2ee" in corpus_ids(SHARED_EVAL / "seed" / "corpus.jsonl")


def test_unanswerable_with_blank_answers_is_fine(tmp_path):
    path = write(tmp_path / "q.jsonl", json.dumps({**GOOD, "answers": [""], "answerable": False}) + "\n")
    (q,) = read_questions(path)
    assert q.answers == () and not q.answerable and q.history == ({"role": "user", "content": "Hi"},)


@pytest.mark.parametrize(
    "bad, words",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({**GOOD, "question": "  "}), "'question'"),
        (json.dumps({**GOOD, "answers": []}), "answerable question needs"),
        (json.dumps({**GOOD, "answerable": "yes"}), "'answerable'"),
        (json.dumps({**GOOD, "asked_on": "25/01/2026"}), "'asked_on'"),
        (json.dumps({**GOOD, "history": [{"role": "system", "content": "x"}]}), "history turn 1"),
        (json.dumps({**GOOD, "evidence_ids": "d1", "answers": {"a": 1}}), "'answers'"),
        (json.dumps(GOOD), "already used on line 1"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path, bad, words):
    path = write(tmp_path / "questions.jsonl", json.dumps(GOOD) + "\n\n" + bad + "\n")
    with pytest.raises(InputError) as err:
        read_questions(path)
    message = str(err.value)
    assert message.startswith(f"{path}:3: ") and words in message


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_questions(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="holds no questions"):
        read_questions(write(tmp_path / "empty.jsonl", "\n"))
    with pytest.raises(InputError, match=r"corpus.jsonl:2: missing required field 'id'"):
        corpus_ids(write(tmp_path / "corpus.jsonl", '{"id": "a", "text": "x"}\n{"text": "y"}\n'))


def test_a_repeated_id_with_a_line_break_is_named_on_one_line(tmp_path):
    """Found by the property test of corpus files: an id of "\\n" used twice made a two-line message."""
    from qa_bot.ingest.loaders import check_jsonl

    twice = json.dumps({**GOOD, "id": "q\n1"}) + "\n"
    with pytest.raises(InputError) as err:
        read_questions(write(tmp_path / "questions.jsonl", twice * 2))
    assert "\n" not in str(err.value) and "'q\\n1' was already used on line 1" in str(err.value)
    article = json.dumps({"id": "\n", "text": "Some news."}) + "\n"
    with pytest.raises(InputError) as err:
        check_jsonl(write(tmp_path / "corpus.jsonl", article * 2))
    assert "\n" not in str(err.value) and "id '\\n' is already used on line 1" in str(err.value)
