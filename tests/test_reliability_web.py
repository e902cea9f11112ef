"""Unusable files added from the page, in headless Chromium against the real server: a visible
sentence in the Articles panel, and the article list as it was. (Type and size limits, hostile
markup and bad questions in the page are test_web_browser.py.)"""

from __future__ import annotations

import json

import pytest

from test_web_browser import browser, page, server, shot, upload  # noqa: F401  (fixtures reused)

pytestmark = pytest.mark.browser

BROKEN_JSONL = "\n".join(
    [
        json.dumps({"id": "ok1", "title": "Ferry strike ends", "text": "The ferry strike ended on Friday after nine days."}),
        '{"id": "bad", "text": "cut off',
        json.dumps({"id": "ok2", "title": "Bridge repaired", "text": "The bridge reopened to traffic on Sunday."}),
    ]
) + "\n"


def _listed(page) -> list[str]:
    return page.locator("#qa-article-list li").all_inner_texts()


@pytest.mark.parametrize(
    "name, data, words",
    [
        ("corpus.jsonl", BROKEN_JSONL.encode(), ["corpus.jsonl:2:", "not valid JSON"]),
        ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, ["photo.txt", "not a text file"]),
        ("notes.md", b" \n\n \n", ["notes.md", "empty"]),
    ],
    ids=["broken-jsonl-line", "binary", "empty"],
)
def test_unusable_upload_is_a_visible_sentence_and_adds_nothing(page, name, data, words):
    before = _listed(page)
    upload(page, name, data)
    status = page.locator("#qa-status", has_text="Nothing added")
    status.wait_for(timeout=60_000)
    message = status.inner_text()
    for word in words:
        assert word in message, (word, message)
    page.reload()
    page.locator("#qa-article-list li").first.wait_for(timeout=30_000)
    assert _listed(page) == before  # the good lines of the broken corpus are not added either
    shot(page, f"bad-upload-{name.replace('.', '-')}")
