import gzip
import json
from datetime import date

import pytest

from qa_bot.errors import InputError
from qa_bot.ingest.loaders import check_paths, iter_files, load_file, load_jsonl

from conftest import write


def test_txt_title_from_first_line_and_header_metadata(tmp_path):
    plain = load_file(write(tmp_path / "a.txt", "Storm hits coast\nThe storm arrived on Monday."), "a")
    assert plain.title == "Storm hits coast"
    assert plain.text.startswith("Storm hits coast")
    assert plain.published is None

    headed = load_file(
        write(tmp_path / "b.txt", "Title: Budget passes\nPublished: 2025-03-04\n\nThe council voted."), "b"
    )
    assert (headed.title, headed.published, headed.text) == ("Budget passes", date(2025, 3, 4), "The council voted.")


def test_markdown_front_matter_and_markup(tmp_path):
    md = "---\ntitle: \"Port reopens\"\ndate: March 5, 2025\nsource: Harbour News\n---\n# Port reopens\n\nThe **port** reopened, [officials](http://x) said.\n"
    article = load_file(write(tmp_path / "p.md", md), "p")
    assert article.title == "Port reopens"
    assert article.published == date(2025, 3, 5)
    assert article.source == "Harbour News"
    assert "The port reopened, officials said." in article.text
    assert "**" not in article.text and "http://x" not in article.text


def test_html_goes_through_the_article_extractor(tmp_path):
    html = (
        "<html><head><title>Budget vote - City Paper</title>"
        '<meta property="article:published_time" content="2025-03-04T10:00:00Z"></head><body>'
        "<nav>Home | Sports | Weather | Subscribe now</nav><article><h1>Budget vote</h1>"
        "<p>The council approved the budget on Monday after a long debate among the members.</p>"
        "<p>It will take effect in April, officials said, and the mayor welcomed it warmly.</p>"
        "</article><footer>Copyright 2025 City Paper. All rights reserved.</footer></body></html>"
    )
    article = load_file(write(tmp_path / "b.html", html), "b")
    assert article.title == "Budget vote"
    assert article.published == date(2025, 3, 4)
    assert "The council approved the budget on Monday" in article.text
    assert "Subscribe" not in article.text and "All rights reserved" not in article.text


def test_non_utf8_text_is_decoded_not_rejected(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Café owners in Zürich protested the new rules on Tuesday.".encode("cp1252"))
    assert "Zürich" in load_file(path, "latin").text


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.txt", b"", "is empty"),
        ("blank.txt", b"  \n\n ", "is empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    ],
)
def test_unusable_files_are_clear_input_errors(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        load_file(path, "x")


def test_jsonl_corpus_streams_records_with_metadata(tmp_path):
    rows = [
        {"id": "n1", "title": "One", "text": "First story.", "source": "Wire", "url": "http://a", "published": "2025-01-02"},
        {"id": "n2", "title": "Two", "text": "Second story.", "published": None},
    ]
    path = tmp_path / "c.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(json.dumps(r) for r in rows) + "\n\n")
    articles = list(load_jsonl(path))
    assert [(a.doc_id, a.title, a.source, a.published) for a in articles] == [
        ("n1", "One", "Wire", date(2025, 1, 2)),
        ("n2", "Two", "", None),
    ]
    assert articles[0].content_hash != articles[1].content_hash


@pytest.mark.parametrize(
    "bad_line, message",
    [("{not json", "c.jsonl:2: not valid JSON"), ('{"id": "x"}', "c.jsonl:2: missing required field 'text'"), ("[1, 2]", "c.jsonl:2: expected a JSON object")],
)
def test_a_broken_jsonl_line_rejects_the_file_before_anything_is_yielded(tmp_path, bad_line, message):
    path = write(tmp_path / "c.jsonl", json.dumps({"id": "ok", "text": "Fine."}) + "\n" + bad_line + "\n")
    stream = load_jsonl(path)
    with pytest.raises(InputError, match=message):
        next(stream)


def test_paths_are_checked_and_folders_walked(tmp_path):
    write(tmp_path / "d" / "a.txt", "A.")
    write(tmp_path / "d" / "sub" / "b.md", "B.")
    write(tmp_path / "d" / "ignored.png", "C.")
    assert [p.name for p in iter_files([tmp_path / "d"])] == ["a.txt", "b.md"]
    with pytest.raises(InputError, match="does not exist"):
        check_paths([tmp_path / "missing"])
    with pytest.raises(InputError, match="not a supported file type"):
        check_paths([write(tmp_path / "x.png", "x")])
