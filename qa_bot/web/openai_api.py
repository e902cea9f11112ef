"""`/v1/chat/completions` and `/v1/models` in the OpenAI wire format, so any OpenAI client can ask
qa-bot. The answer text carries [n] markers and the response a top-level `citations` list; when
streaming, the last chunk carries `citations`. Messages before the last user message are the
conversation history that follow-ups are rewritten against.

Every request is held at the boundary: a JSON body (`Content-Type: application/json`, so another
site's page cannot post one blind) of bounded size, every field checked, and any failure answered
as an OpenAI-shaped JSON error, never a plain-text 500."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa_bot.api import QABot
from qa_bot.errors import InputError, QABotError, StoreError
from qa_bot.types import Answer
from qa_bot.web.cards import with_markers

MODEL = "qa-bot"
ROLES = ("system", "developer", "user", "assistant", "tool")
log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refused request: its HTTP status, one sentence for the client and the field at fault."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status, self.code, self.param = status, code, param

    def response(self) -> JSONResponse:
        kind = "server_error" if self.status >= 500 else "invalid_request_error"
        return _error(self.status, str(self), kind, self.code, self.param)


def _error(
    status: int, message: str, kind: str = "invalid_request_error", code: str | None = None, param: str | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}}, status_code=status)


def _shown(value: object) -> str:
    """A client's value in an error message: short, whatever it is."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):  # an integer too long to print
        text = type(value).__name__
    return text if len(text) <= 40 else text[:40] + "…"


def _content(message: dict, where: str) -> str:
    """A message's text; the list-of-parts form keeps its text parts (other parts, such as images,
    are not read)."""
    content = message.get("content")
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise InputError(f"{where}.content must be a string or a list of parts, got {_shown(content)}.")
    texts = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise InputError(f"{where}.content[{j}] must be an object with a 'type', got {_shown(part)}.")
        if part["type"] == "text":
            if not isinstance(part.get("text"), str):
                raise InputError(f"{where}.content[{j}].text must be a string, got {_shown(part.get('text'))}.")
            texts.append(part["text"])
    return "".join(texts)


def split_messages(messages: object) -> tuple[str, list[dict]]:
    """The last user message is the question; earlier user/assistant turns are its history."""
    if not isinstance(messages, list) or not messages:
        raise InputError("'messages' must be a non-empty list of {role, content} objects.")
    turns = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise InputError(f"{where} must be an object with 'role' and 'content', got {_shown(message)}.")
        if "role" not in message:
            raise InputError(f"{where} has no 'role'; use one of: {', '.join(ROLES)}.")
        role = message["role"]
        if role not in ROLES:
            raise InputError(f"{where}.role must be one of: {', '.join(ROLES)}; got {_shown(role)}.")
        text = _content(message, where)
        if role in ("user", "assistant"):
            turns.append({"role": role, "content": text})
    last_user = max((i for i, m in enumerate(turns) if m["role"] == "user"), default=None)
    if last_user is None:
        raise InputError("'messages' holds no user message to answer.")
    return turns[last_user]["content"], turns[:last_user]


def model_answerers(choices: list[str]) -> dict[str, str | None]:
    """`qa-bot` uses the configured answerer; `qa-bot-<answerer>` picks one."""
    return {MODEL: None} | {f"{MODEL}-{kind}": kind for kind in choices}


def _model(body: dict, models: dict[str, str | None]) -> str:
    model = body.get("model")
    if model is None or model == "":
        return MODEL
    if not isinstance(model, str):
        raise ApiError(400, f"model must be a string such as '{MODEL}', got {_shown(model)}.", param="model")
    if model not in models:
        raise ApiError(404, f"The model {_shown(model)} does not exist; use one of: {', '.join(models)}.",
                       code="model_not_found", param="model")
    return model


def _options(body: dict, models: dict[str, str | None]) -> dict:
    """The qa-bot extras; their ranges (top_k, the date) are checked by `QABot.ask` itself."""
    asked_on = body.get("asked_on")
    if asked_on is not None and not isinstance(asked_on, str):
        raise ApiError(400, f"asked_on must be a date string like 2026-01-25, got {_shown(asked_on)}.", param="asked_on")
    return {"answerer": models[_model(body, models)], "top_k": body.get("top_k"), "asked_on": asked_on or None}


def _stream_flag(body: dict) -> bool:
    stream = body.get("stream", False)
    if stream is None:
        return False
    if not isinstance(stream, bool):
        raise ApiError(400, f"stream must be true or false, got {_shown(stream)}.", param="stream")
    return stream


async def read_json(request: Request, limit: int) -> object:
    """The body as JSON, refused (415) unless it says it is JSON and (413) as soon as it passes
    `limit` bytes, whether the size was declared or the body comes in chunks: at most `limit` bytes
    are ever held."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, "Send the request body as JSON, with the header Content-Type: application/json.",
                       code="unsupported_media_type")
    too_big = ApiError(413, f"The request body is larger than the limit of {limit:,} bytes.", code="request_too_large")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > limit:
            raise too_big
    try:
        return json.loads(bytes(body) or b"null")
    except (ValueError, RecursionError):  # also bad UTF-8, numbers too long to read, deep nesting
        raise ApiError(400, "The request body is not valid JSON.") from None


def _unavailable(exc: Exception) -> ApiError:
    """The store's own sentence when it has one; a dropped connection is named by its kind only."""
    log.warning("/v1: the store or a model server is unavailable: %r", exc)
    message = str(exc) if isinstance(exc, StoreError) else (
        f"The article store cannot be reached right now ({type(exc).__name__}); try again shortly."
    )
    return ApiError(503, message, code="store_unavailable")


async def _call(fn: Callable[[], object]) -> object:
    """Runs the bot off the event loop; what it refuses is a 400, an unreachable store a 503."""
    try:
        return await run_in_threadpool(fn)
    except StoreError as exc:
        raise _unavailable(exc) from None
    except httpx.TransportError as exc:  # a Chroma server (or LLM server) that went away
        raise _unavailable(exc) from None
    except QABotError as exc:
        raise ApiError(400, str(exc)) from None


class GuardedRoute(APIRoute):
    """A /v1 route whose unforeseen failure is a JSON 500 with one sentence, the traceback going
    to the server's log; refusals (`ApiError`) are answered as such."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def guarded(request: Request):
            try:
                return await handler(request)
            except ApiError as exc:
                return exc.response()
            except StarletteHTTPException as exc:  # the login check's 401, already in OpenAI's shape
                if isinstance(exc.detail, dict) and "error" in exc.detail:
                    return JSONResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
                raise
            except Exception:
                log.exception("/v1: %s %s failed", request.method, request.url.path)
                return _error(500, "The server failed on this request; the details are in its log.", "server_error")

        return guarded


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
        yield _error_event(str(exc), "invalid_request_error")
    except Exception:
        log.exception("/v1: a streamed answer failed")
        yield _error_event("The server failed while streaming this answer; the details are in its log.", "server_error")
    yield "data: [DONE]\n\n"


def _error_event(message: str, kind: str) -> str:
    error = {"message": message, "type": kind, "param": None, "code": None}
    return f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"


def openai_router(bot: QABot, choices: list[str]) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=GuardedRoute)
    models = model_answerers(choices)
    limit = int(bot.settings.api_max_body_mb * 2**20)

    @router.get("/models")
    def list_models() -> dict:
        created = int(time.time())
        data = [{"id": name, "object": "model", "created": created, "owned_by": "qa-bot"} for name in models]
        return {"object": "list", "data": data}

    @router.post("/chat/completions")
    async def chat_completions(request: Request):
        body = await read_json(request, limit)
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        try:
            question, history = split_messages(body.get("messages"))
        except InputError as exc:
            raise ApiError(400, str(exc), param="messages") from None
        options = _options(body, models)
        stream = _stream_flag(body)
        model = body.get("model") or MODEL
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if stream:
            items = bot.stream(question, history=history, **options)
            # the first item surfaces user errors (empty question, empty index) as a 400
            first = await _call(lambda: next(items))

            def events() -> Iterator[str]:
                yield from stream_events(_prepend(first, items), model, ident, created)

            return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        answer = await _call(lambda: bot.ask(question, history=history, **options))
        return completion(answer, model, ident, created)

    known = {"models": "GET", "chat/completions": "POST"}

    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    def elsewhere(rest: str, request: Request):
        """Anything else under /v1 is an OpenAI-shaped 404 or 405, not the page's HTML or FastAPI's."""
        if rest.strip("/") in known:
            allowed = known[rest.strip("/")]
            raise ApiError(405, f"/v1/{rest.strip('/')} takes {allowed} requests, not {request.method}.", code="method_not_allowed")
        raise ApiError(404, f"There is no /v1/{rest[:40]} here; use /v1/models or /v1/chat/completions.",
                       code="not_found")

    return router


def _prepend(first: str | Answer, rest: Iterator[str | Answer]) -> Iterator[str | Answer]:
    yield first
    yield from rest
