"""Property-based hostile input for ingest (issue 13): random and mutated text, HTML and JSONL bytes.

Whatever the bytes, loading is a sentence (`QABotError`) or articles whose passages respect the
ceiling and point at their article's text; never another exception. The loaders are exercised
in-process for volume; a few cases go through `QABot.ingest` on a copy of the seed index, which
must still answer the seed question afterwards. Counts are printed as one JSON line and kept in
test-artifacts/property_ingest.json.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SEED_ASKED_ON, SEED_DOC, SEEDS
from web_server import ARTIFACTS

from qa_bot.errors import QABotError
from qa_bot.ingest.chunking import chunk_article
from qa_bot.ingest.loaders import check_jsonl, load_file, load_jsonl
from qa_bot.settings import Settings

LIMITS = Settings()
SEED_TEXT = next(SEEDS.glob("*.txt")).read_bytes()
SEED_LINE = json.dumps({"id": "s1", "title": "Talks", "text": SEED_TEXT.decode("utf-8")[:600], "published": "2026-01-24"})
HTML = (
    "<html><head><title>Talks resume</title></head><body><article><h1>Talks resume</h1>"
    "<p>New meetings are slated for February 1 in Abu Dhabi, officials said on Saturday.</p>"
    "<p>The delegations met for two days and agreed to continue.</p></article></body></html>"
)
# the same markup about another story: the whole-way cases must not hand the seed question a
# near-duplicate source, which may rightly answer it instead (a mutation once cut "February")
OTHER_HTML = HTML.replace("Talks resume", "Ferry strike ends").replace(
    "New meetings are slated for February 1 in Abu Dhabi", "The ferry crews return to work on Monday in Portmere"
)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"]
# the cases are bounded in number and in time per case; the whole file runs in a few minutes
VOLUME = settings(
    max_examples=1500, deadline=timedelta(seconds=10), database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FIGURES: dict[str, dict] = {}


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace") if encoding not in ("utf-16", "utf-32") else text.encode(encoding)


@st.composite
def mutated(draw, base: bytes) -> bytes:
    """`base` with random edits: bytes flipped, inserted (NULs and control codes among them), cut."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "cut", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif op == "delete" and data:
            del data[at : at + draw(st.integers(1, 50))]
        elif op == "cut":
            del data[at:]
        elif op == "repeat" and data:
            data[at:at] = data[at : at + 30] * draw(st.integers(1, 200))
    return bytes(data)


def text_bytes() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=3000),
        st.builds(_encode, st.text(max_size=1500), st.sampled_from(ENCODINGS)),
        mutated(SEED_TEXT),
        st.builds(lambda w, n: (w + " ") * n, st.sampled_from(["word", "x" * 300, "\u200b", "\t"]), st.integers(1, 3000)).map(
            lambda s: s.encode("utf-8")
        ),
    )


def _records() -> st.SearchStrategy[dict]:
    value = st.one_of(st.none(), st.text(max_size=200), st.integers(), st.floats(allow_nan=True), st.lists(st.integers(), max_size=3))
    return st.fixed_dictionaries(
        {"id": st.one_of(st.text(max_size=20), st.integers(0, 5), st.none(), st.lists(st.integers(), max_size=2))},
        optional={"text": st.one_of(st.text(max_size=400), value), "title": value, "published": st.one_of(value, st.dates().map(str)), "source": value, "url": value},
    )


def jsonl_bytes() -> st.SearchStrategy[bytes]:
    lines = st.lists(st.one_of(_records().map(lambda r: json.dumps(r, ensure_ascii=False)), st.just(SEED_LINE), st.text(max_size=80)), max_size=8)
    built = st.builds(lambda ls, enc: _encode("\n".join(ls) + "\n", enc), lines, st.sampled_from(ENCODINGS))
    return st.one_of(built, mutated((SEED_LINE + "\n" + SEED_LINE.replace('"s1"', '"s2"') + "\n").encode("utf-8")), st.binary(max_size=2000))


def html_bytes() -> st.SearchStrategy[bytes]:
    return st.one_of(mutated(HTML.encode("utf-8")), st.builds(_encode, st.text(max_size=800), st.sampled_from(ENCODINGS)))


def _check_articles(articles) -> int:
    """The properties of whatever loaded: passages under the ceiling, offsets into the text."""
    chunks = 0
    for article in articles:
        for chunk in chunk_article(article, LIMITS.chunk_words):
            assert article.text[chunk.start : chunk.end] == chunk.text
            assert len(chunk.text) <= LIMITS.max_chunk_chars
            assert len(chunk.text.split()) <= LIMITS.max_chunk_words
            chunks += 1
    return chunks


def _load(path: Path) -> list:
    if path.suffix == ".jsonl":
        check_jsonl(path)
        return list(load_jsonl(path, checked=True))
    return [load_file(path, "x")]


def _volume(name: str, suffix: str, strategy: st.SearchStrategy[bytes]) -> None:
    stats: Counter = Counter()
    folder = Path(tempfile.mkdtemp(prefix="qa-property-"))
    path = folder / f"case{suffix}"

    @VOLUME
    @given(strategy)
    def case(data: bytes) -> None:
        path.write_bytes(data)
        stats["cases"] += 1
        try:
            articles = _load(path)
        except QABotError as exc:
            message = str(exc)
            assert message and "\n" not in message and "Traceback" not in message
            stats["sentences"] += 1
            return
        stats["loaded"] += 1
        stats["chunks"] += _check_articles(articles)

    try:
        case()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    FIGURES[name] = {**stats, "other_exceptions": 0}
    assert stats["cases"] >= 1000 and stats["sentences"] and stats["loaded"], stats


def test_random_and_mutated_text_is_a_sentence_or_articles():
    _volume("text", ".txt", text_bytes())


def test_random_and_mutated_jsonl_is_a_sentence_or_articles():
    _volume("jsonl", ".jsonl", jsonl_bytes())


def test_random_and_mutated_html_is_a_sentence_or_articles():
    _volume("html", ".html", html_bytes())


def test_hostile_files_through_ingest_leave_the_seed_answering(seed_index, tmp_path_factory):
    """A few cases the whole way: QABot.ingest on a copy of the seed index, then the seed question."""
    from qa_bot import QABot

    index = tmp_path_factory.mktemp("property-index") / "index"
    shutil.copytree(seed_index, index)
    bot = QABot(index_dir=index)
    inbox = tmp_path_factory.mktemp("property-inbox")
    stats: Counter = Counter()

    # no mutated copies of the seed article here: a near-duplicate of it is a real second source
    # and may rightly change which sentence answers; the property is that nothing breaks
    hostile = st.one_of(
        st.binary(max_size=3000),
        st.builds(_encode, st.text(max_size=1500), st.sampled_from(ENCODINGS)),
        st.lists(_records().map(json.dumps), max_size=6).map(lambda ls: ("\n".join(ls) + "\n").encode("utf-8")),
        mutated(OTHER_HTML.encode("utf-8")),
    )

    @settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from([".txt", ".md", ".html", ".jsonl"]), hostile)
    def case(suffix: str, data: bytes) -> None:
        stats["cases"] += 1
        path = inbox / f"case{stats['cases']}{suffix}"
        path.write_bytes(data)
        try:
            bot.ingest([path])
            stats["ingested"] += 1
        except QABotError:
            stats["sentences"] += 1

    seed_before = {r.doc_id: r for r in bot.articles()}[SEED_DOC]
    case()
    records = {r.doc_id: r for r in bot.articles()}
    assert records[SEED_DOC] == seed_before
    chunk_ids = [c.chunk_id for c in bot.store.iter_chunks()]
    assert len(chunk_ids) == len(set(chunk_ids)) == sum(r.n_chunks for r in records.values())
    answer = bot.ask("When are the next talks?", asked_on=SEED_ASKED_ON)
    assert "February 1" in answer.text
    FIGURES["through_ingest"] = {**stats, "seed_still_answers": True}
    line = json.dumps({"property_ingest": FIGURES})
    print(line)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "property_ingest.json").write_text(line + "\n", encoding="utf-8")
