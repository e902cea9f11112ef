"""The web chat in headless Chromium against the real server: cited answers with highlighted source
cards, follow-ups, abstentions, uploads (with their limits), removal, and hostile articles that must
not run script. Screenshots go to test-artifacts/."""

from __future__ import annotations


import pytest

from conftest import SEED_ASKED_ON
from web_server import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, seed_server

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

ANSWER_TIMEOUT = 90_000  # ms; the first question loads the embedding model
FESTIVAL = (
    "Harbor lantern festival returns to Portmere\n\n"
    "The Portmere harbor lantern festival will return on 14 March 2026 after a two-year pause. "
    "Organisers expect 18,000 visitors along the old quay. "
    "The festival director, Ines Valdora, said volunteers have folded 3,000 paper lanterns."
)
HOSTILE = (
    "<img src=x onerror=\"window.__pwned='title'\">Glass bridge opens in Quillton\n\n"
    "The glass bridge in Quillton cost 4 million dollars and opened on Tuesday. "
    "<script>window.__pwned='script'</script> <img src=x onerror=\"window.__pwned='img'\"> "
    "Mayor Ada Quill cut the ribbon while <b onmouseover=\"window.__pwned='hover'\">crowds</b> cheered."
)


@pytest.fixture(scope="module")
def server(seed_index, tmp_path_factory):
    with seed_server(seed_index, tmp_path_factory.mktemp("web-browser")) as (url, index):
        yield url, index


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    url, _ = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.dialogs = []  # an alert() from an article would be script running
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.locator("#qa-article-list li").first.wait_for(timeout=30_000)
    yield page
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def set_asked_on(page, day: str) -> None:
    page.locator("#qa-asked-on textarea, #qa-asked-on input").first.fill(day)


def ask(page, question: str, via_button: bool = False):
    """Asks and waits for the finished reply (no longer streaming); returns its locator."""
    done = "#qa-chat .qa-reply:not(:has(.qa-streaming))"
    before = page.locator(done).count()
    page.locator("#qa-question textarea").fill(question)
    if via_button:
        page.locator("#qa-ask").click()
    else:
        page.locator("#qa-question textarea").press("Enter")
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length > n", arg=[done, before], timeout=ANSWER_TIMEOUT
    )
    return page.locator(done).last


def upload(page, name: str, data: bytes, mime: str = "text/plain") -> None:
    page.locator("#qa-upload input[type=file]").set_input_files([{"name": name, "mimeType": mime, "buffer": data}])


def test_answer_with_highlighted_card_then_follow_up_and_abstention(page):
    set_asked_on(page, SEED_ASKED_ON)
    reply = ask(page, "When are the next talks?")
    assert "February 1" in reply.locator(".qa-answer").inner_text()
    card = reply.locator(".qa-card").first
    assert card.locator(".qa-n").inner_text() == "1"
    assert "February 1" in card.locator("mark").inner_text()  # the cited sentence is the highlight
    assert card.locator(".qa-title").inner_text().startswith("American officials")
    assert reply.locator(".qa-rewrite").count() == 0  # a first question needs no rewrite
    shot(page, "chat-first-answer")

    follow = ask(page, "And where?", via_button=True)
    rewrite = follow.locator(".qa-rewrite").inner_text()
    assert "talks" in rewrite.lower()  # the follow-up was understood with the earlier question
    assert "Abu Dhabi" in follow.locator(".qa-answer").inner_text()

    abstain = ask(page, "What is the boiling point of mercury?")
    assert abstain.locator(".qa-abstained").is_visible()
    assert abstain.locator(".qa-cards").count() == 0  # nothing cited; what was read stays folded away
    assert abstain.locator(".qa-more:not([open])").count() == 1
    shot(page, "chat-follow-up-and-abstention")


def test_uploaded_article_is_listed_answered_from_and_removed(page, server):
    _, index = server
    upload(page, "../../harbor festival.txt", FESTIVAL.encode())
    listed = page.locator("#qa-article-list li", has_text="Harbor lantern festival")
    listed.wait_for(timeout=ANSWER_TIMEOUT)
    assert "1 added" in page.locator("#qa-status").inner_text()
    stored = index / "uploads" / "harbor_festival.txt"
    assert stored.read_text() == FESTIVAL  # the name lost its path parts and spaces
    assert not (index.parent.parent / "harbor festival.txt").exists()

    reply = ask(page, "How many visitors do the festival organisers expect?")
    assert "18,000" in reply.locator(".qa-answer").inner_text()
    card = reply.locator(".qa-card").first
    assert card.locator(".qa-title").inner_text() == "Harbor lantern festival returns to Portmere"
    assert "18,000" in card.locator("mark").inner_text()
    shot(page, "uploaded-article")

    page.locator("#qa-remove-choice input").fill("Harbor")
    page.get_by_role("option", name="Harbor lantern festival", exact=False).first.click()
    page.locator("#qa-remove").click()
    page.locator("#qa-status", has_text="Removed 1 article").wait_for(timeout=30_000)
    assert page.locator("#qa-article-list li", has_text="Harbor lantern festival").count() == 0
    assert not stored.exists()
    reply = ask(page, "How many visitors do the festival organisers expect?")
    assert "18,000" not in reply.inner_text()


def test_hostile_article_shows_its_markup_as_text_and_runs_nothing(page):
    upload(page, "glass-bridge.txt", HOSTILE.encode())
    page.locator("#qa-article-list li", has_text="Glass bridge opens").wait_for(timeout=ANSWER_TIMEOUT)
    reply = ask(page, "How much did the glass bridge in Quillton cost?")
    card = reply.locator(".qa-card").first
    card.locator("mark").wait_for()
    passage = card.locator(".qa-passage").inner_text()
    assert "<script>window.__pwned='script'</script>" in passage  # shown as text, verbatim
    assert "<img src=x onerror=" in passage
    if reply.locator(".qa-more summary").count():
        reply.locator(".qa-more summary").click()  # the passages read but not cited are shown too
    for where in ("#qa-chat .qa-card", "#qa-article-list li"):
        page.locator(where).last.hover()
    page.locator("#qa-remove-choice input").click()  # the title is also an option in the remove list
    page.get_by_role("option", name="Glass bridge", exact=False).first.hover()
    page.wait_for_timeout(500)  # a broken image would fire its onerror by now
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    assert page.locator("img[src='x'], #qa-chat script, #qa-article-list script").count() == 0
    shot(page, "hostile-article")


def test_empty_and_huge_questions_give_a_visible_message(page):
    reply = ask(page, "   ", via_button=True)
    assert "empty" in reply.locator(".qa-error").inner_text()
    reply = ask(page, "why" + "?" * 99_997)  # 100 kB
    message = reply.locator(".qa-error").inner_text()
    assert "100,000 characters" in message and "2,000" in message
    shot(page, "bad-questions")


def test_upload_type_and_size_limits_are_explained(page, server):
    _, index = server
    upload(page, "photo.png", b"\x89PNG\r\n\x1a\n not an article", "image/png")
    page.get_by_text("Invalid file type").first.wait_for(timeout=10_000)
    upload(page, "huge.txt", b"word " * 1_200_000)  # 6 MB
    page.get_by_text("maximum allowed size").first.wait_for(timeout=10_000)
    shot(page, "upload-limits")
    uploaded = {p.name for p in (index / "uploads").glob("*") if p.is_file()}
    assert not uploaded & {"photo.png", "huge.txt"}
