"""`/v1/chat/completions` and `/v1/models` in the OpenAI wire format, so any OpenAI client can ask
qa-bot. The answer text carries [n] markers and the response a top-level `citations` list; when
streaming, the last chunk carries `citations`. Messages before the last user message are the
conversation history that follow-ups are rewritten against."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from qa_bot.api import QABot
from qa_bot.errors import InputError, QABotError
from qa_bot.types import Answer
from qa_bot.web.cards import with_markers

MODEL = "qa-bot"


def _error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status)


def _content(message: dict) -> str:
    """A message's text; the list-of-parts form keeps its text parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def split_messages(messages: object) -> tuple[str, list[dict]]:
    """The last user message is the question; earlier user/assistant turns are its history."""
    if not isinstance(messages, list) or not messages:
        raise InputError("'messages' must be a non-empty list of {role, content} objects.")
    turns = [m for m in messages if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
    last_user = max((i for i, m in enumerate(turns) if m["role"] == "user"), default=None)
    if last_user is None:
        raise InputError("'messages' holds no user message to answer.")
    history = [{"role": m["role"], "content": _content(m)} for m in turns[:last_user]]
    return _content(turns[last_user]), history


def model_answerers(choices: list[str]) -> dict[str, str | None]:
    """`qa-bot` uses the configured answerer; `qa-bot-<answerer>` picks one."""
    return {MODEL: None} | {f"{MODEL}-{kind}": kind for kind in choices}


def _options(body: dict, models: dict[str, str | None]) -> dict:
    model = body.get("model") or MODEL
    if model not in models:
        raise LookupError(f"The model '{model}' does not exist; use one of: {', '.join(models)}.")
    top_k = body.get("top_k")
    if top_k is not None and (not isinstance(top_k, int) or top_k <= 0):
        raise InputError(f"top_k must be a positive integer, got {top_k!r}.")
    asked_on = body.get("asked_on")
    if asked_on is not None and not isinstance(asked_on, str):
        raise InputError("asked_on must be a date string like 2026-01-25.")
    return {"answerer": models[model], "top_k": top_k, "asked_on": asked_on or None}


def completion(answer: Answer, model: str, ident: str, created: int) -> dict:
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content_of(answer)}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": [c.to_dict() for c in answer.citations],
        "qa_bot": _extra(answer),
    }


def content_of(answer: Answer) -> str:
    """The short answer first, on its own line, then the cited sentence with its markers."""
    text = with_markers(answer)
    return f"{answer.short_answer.text}\n\n{text}" if answer.short_answer else text


def _extra(answer: Answer) -> dict:
    return {
        "abstained": answer.abstained,
        "standalone_question": answer.standalone_question,
        "answerer": answer.answerer,
        "fallback_reason": answer.fallback_reason,
    }


def _chunk(ident: str, created: int, model: str, delta: dict, finish: str | None = None, **extra) -> str:
    body = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def stream_events(items: Iterator[str | Answer], model: str, ident: str, created: int) -> Iterator[str]:
    """SSE chunks: the text as it comes, whatever the final answer adds to it (its markers, or
    the whole answer when a checked LLM draft was replaced), then `citations` and [DONE]."""
    yield _chunk(ident, created, model, {"role": "assistant", "content": ""})
    sent = ""
    try:
        for item in items:
            if isinstance(item, Answer):
                final = content_of(item)
                rest = final[len(sent):] if final.startswith(sent) else ("\n\n" if sent else "") + final
                if rest:
                    yield _chunk(ident, created, model, {"content": rest})
                yield _chunk(
                    ident, created, model, {}, "stop",
                    citations=[c.to_dict() for c in item.citations], qa_bot=_extra(item),
                )
                break
            sent += item
            yield _chunk(ident, created, model, {"content": item})
    except QABotError as exc:
        error = {"message": str(exc), "type": "invalid_request_error", "param": None, "code": None}
        yield f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def openai_router(bot: QABot, choices: list[str]) -> APIRouter:
    router = APIRouter(prefix="/v1")
    models = model_answerers(choices)

    @router.get("/models")
    def list_models() -> dict:
        created = int(time.time())
        data = [{"id": name, "object": "model", "created": created, "owned_by": "qa-bot"} for name in models]
        return {"object": "list", "data": data}

    @router.post("/chat/completions")
    async def chat_completions(request: Request):
        try:
            body = json.loads(await request.body() or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return _error(400, "The request body must be a JSON object.")
        try:
            question, history = split_messages(body.get("messages"))
            options = _options(body, models)
        except LookupError as exc:
            return _error(404, str(exc), code="model_not_found")
        except QABotError as exc:
            return _error(400, str(exc))
        model = body.get("model") or MODEL
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if body.get("stream"):
            items = bot.stream(question, history=history, **options)
            try:  # the first item surfaces user errors (empty question, empty index) as a 400
                first = await run_in_threadpool(next, items)
            except QABotError as exc:
                return _error(400, str(exc))

            def events() -> Iterator[str]:
                yield from stream_events(_prepend(first, items), model, ident, created)

            return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        try:
            answer = await run_in_threadpool(lambda: bot.ask(question, history=history, **options))
        except QABotError as exc:
            return _error(400, str(exc))
        return completion(answer, model, ident, created)

    return router


def _prepend(first: str | Answer, rest: Iterator[str | Answer]) -> Iterator[str | Answer]:
    yield first
    yield from rest

