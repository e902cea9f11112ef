"""Conversations kept in the browser (Gradio's BrowserState, in localStorage), so a reload or a
new visit finds them again: what the chat showed, the turns a follow-up is read against, and a
plain record of each answer for the Markdown export. The server keeps none of them.

The store is a plain JSON dict: {"current": id, "chats": {id: {"title", "updated", "messages",
"history", "turns"}}}. Bounded, since localStorage holds a few megabytes per site."""

from __future__ import annotations

import time
import uuid
from datetime import date

from qa_bot.types import Answer

MAX_CHATS = 20  # the oldest conversation goes first
MAX_TURNS = 30  # per conversation, the oldest question and answer go first
TITLE_CHARS = 60


def empty() -> dict:
    return {"current": "", "chats": {}}


def valid(store: object) -> dict:
    """A store as saved by this page; anything else (an older format, a damaged value) starts afresh."""
    if isinstance(store, dict) and isinstance(store.get("chats"), dict):
        return {"current": str(store.get("current") or ""), "chats": dict(store["chats"])}
    return empty()


def current(store: object) -> dict | None:
    store = valid(store)
    return store["chats"].get(store["current"])


def start_new(store: object) -> dict:
    """A new, empty conversation becomes current (it is listed once it has a question)."""
    store = valid(store)
    store["current"] = uuid.uuid4().hex[:12]
    return store


def select(store: object, chat_id: str) -> dict:
    store = valid(store)
    if chat_id in store["chats"]:
        store["current"] = chat_id
    return store


def delete_current(store: object) -> dict:
    """Deletes the current conversation; the most recent other one becomes current."""
    store = valid(store)
    store["chats"].pop(store["current"], None)
    rest = sorted(store["chats"], key=lambda k: store["chats"][k].get("updated", 0), reverse=True)
    store["current"] = rest[0] if rest else ""
    return store


def turn_record(answer: Answer, notes: list[str], lead: str) -> dict:
    """What the export needs of one answer."""
    return {
        "question": answer.question,
        "understood_as": answer.standalone_question if answer.standalone_question != answer.question else "",
        "lead": "" if answer.abstained else lead,
        "answer": answer.text,
        "abstained": answer.abstained,
        "notes": notes,
        "sources": [
            {
                "n": c.n, "title": c.title or c.doc_id, "source": c.source,
                "published": c.published.isoformat() if c.published else "", "sentence": c.sentence,
            }
            for c in answer.citations
        ],
    }


def save_turn(store: object, messages: list, history: list, record: dict) -> dict:
    """Records the conversation as the chat shows it after an answer."""
    store = valid(store)
    if not store["current"]:
        store = start_new(store)
    chat = store["chats"].get(store["current"]) or {"title": record["question"][:TITLE_CHARS], "turns": []}
    turns = (chat.get("turns") or []) + [record]
    chat = {
        **chat,
        "updated": time.time(),
        "messages": messages[-2 * MAX_TURNS :],
        "history": history[-2 * MAX_TURNS :],
        "turns": turns[-MAX_TURNS:],
    }
    store["chats"][store["current"]] = chat
    if len(store["chats"]) > MAX_CHATS:
        oldest = sorted(store["chats"], key=lambda k: store["chats"][k].get("updated", 0))
        for chat_id in oldest[: len(store["chats"]) - MAX_CHATS]:
            store["chats"].pop(chat_id)
    return store


def choices(store: object) -> list[tuple[str, str]]:
    """(title, id) of the saved conversations, most recent first."""
    store = valid(store)
    ordered = sorted(store["chats"].items(), key=lambda item: item[1].get("updated", 0), reverse=True)
    return [(chat.get("title") or "Untitled", chat_id) for chat_id, chat in ordered]


def to_markdown(chat: dict | None) -> str:
    """A conversation as Markdown: each question, its answer, notes and numbered sources."""
    if not chat:
        return ""
    lines = [f"# {chat.get('title') or 'qa-bot conversation'}", "", f"Exported from qa-bot on {date.today().isoformat()}.", ""]
    for turn in chat.get("turns") or []:
        lines += [f"## {turn['question']}", ""]
        if turn.get("understood_as"):
            lines += [f"*Understood as: {turn['understood_as']}*", ""]
        if turn.get("abstained"):
            lines += [f"> Not in the articles: {turn['answer']}", ""]
        else:
            if turn.get("lead"):
                lines += [f"**{turn['lead']}**", ""]
            lines += [turn["answer"], ""]
        lines += [f"*{note}*" for note in turn.get("notes") or []]
        if turn.get("notes"):
            lines.append("")
        for source in turn.get("sources") or []:
            where = " — ".join(x for x in (source["title"], source["source"], source["published"]) if x)
            lines.append(f"{source['n']}. {where}: “{source['sentence']}”")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
