"""The model behind the embedder, two ways to run the same weights.

`TorchEncoder` is the model's transformer on torch (transformers' `AutoModel`), in bf16 where the
CPU does it fast: it does bulk work (an ingest of many articles). It does not go through
sentence-transformers, whose import alone (scikit-learn, scipy, pandas, PIL) costs a process
~200 MB of RSS for nothing the embedder uses: pooling is the embedder's. `OnnxEncoder` runs the same
weights exported to ONNX (fp32, cosine ≥ 0.9999 to torch) on onnxruntime: questions, their
shortlisted sentences and single articles, in a process that then never loads the torch model.

Both return the model's last hidden states with each token's character offsets; pooling is the
embedder's, so either backend gives the same vectors.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa_bot.settings import Precision


@dataclass
class Hidden:
    states: np.ndarray  # [texts, tokens, dim] float32
    mask: np.ndarray  # [texts, tokens] bool: real tokens, the special ones included
    offsets: np.ndarray  # [texts, tokens, 2] character offsets; (0, 0) for special and padding tokens


class TorchEncoder:
    def __init__(self, model_name: str, precision: Precision):
        from qa_bot.lazy_torch import import_torch

        torch = import_torch()
        from transformers import AutoModel, AutoTokenizer

        dtype = torch.bfloat16 if precision is Precision.BF16 else torch.float32
        self.model_name = model_name
        self.folder = transformer_folder(model_name)
        self.tokenizer = AutoTokenizer.from_pretrained(self.folder)
        self.max_length = max_length(Path(self.folder))
        self.model = AutoModel.from_pretrained(self.folder, dtype=dtype).eval()
        self.dimension = int(self.model.config.hidden_size)

    def hidden(self, texts: Sequence[str]) -> Hidden:
        import torch

        features = self._tokenize(texts)
        offsets = features.pop("offset_mapping").numpy()
        with torch.inference_mode():
            states = self.model(**features).last_hidden_state.float().numpy()
        return Hidden(states, features["attention_mask"].numpy().astype(bool), offsets)

    def _tokenize(self, texts: Sequence[str]):
        return self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_offsets_mapping=True,
            return_tensors="pt",
        )

    def export_onnx(self, path: Path) -> None:
        """Writes the transformer (without pooling, which the embedder does) as ONNX, atomically.

        From an fp32 copy of the weights: onnxruntime's CPU kernels are fp32, and the bf16 model in
        use stays as it is."""
        import torch
        from transformers import AutoModel

        bert = AutoModel.from_pretrained(self.folder, dtype=torch.float32).eval()

        class LastHidden(torch.nn.Module):  # keyword arguments: the exporter passes positionals
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.bert(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state

        # two lengths, so the traced graph has seen padding
        example = self._tokenize(["A short one.", "A longer example sentence, with padding after the short one."])
        axes = {"input_ids", "attention_mask", "token_type_ids", "last_hidden_state"}
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        module = LastHidden().eval()
        try:
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer notes on shape checks; the test compares outputs
                torch.onnx.export(
                    module,
                    (example["input_ids"], example["attention_mask"], example["token_type_ids"]),
                    str(partial),
                    input_names=["input_ids", "attention_mask", "token_type_ids"],
                    output_names=["last_hidden_state"],
                    dynamic_axes={name: {0: "texts", 1: "tokens"} for name in axes},
                    opset_version=17,
                    dynamo=False,
                )
            partial.replace(path)
        finally:  # a failed export (a full disk) must not leave a half-written file taking the space
            partial.unlink(missing_ok=True)


class OnnxEncoder:
    """onnxruntime keeps the most memory any one run needed in its arena for the process's life,
    and a run's activations grow with texts x tokens (attention with tokens squared): 64 passages
    of 256 tokens took it past 1 GB. So a call is run in pieces of at most `batch_tokens` tokens
    (padding included), which bounds the arena whatever the caller hands over."""

    def __init__(self, onnx_path: Path, model_dir: Path, batch_tokens: int = 1024):
        self.batch_tokens = batch_tokens
        import onnxruntime
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length(model_dir))
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        options.log_severity_level = 3
        # idle threads must not spin: torch may run in this process next, and spinning ORT threads
        # doubled its time in a measured mix (22 -> 44 ms for five sentences)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def hidden(self, texts: Sequence[str]) -> Hidden:
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        lengths = mask.sum(axis=1)
        states = np.zeros((*ids.shape, self.dimension), dtype=np.float32)
        for start, end in _pieces(lengths, self.batch_tokens):
            width = int(lengths[start:end].max())  # padding is on the right: the rest is padding
            feeds = {
                "input_ids": ids[start:end, :width],
                "attention_mask": mask[start:end, :width],
                "token_type_ids": np.zeros_like(ids[start:end, :width]),
            }
            states[start:end, :width] = self.session.run(None, feeds)[0]
        offsets = np.array([e.offsets for e in encodings], dtype=np.int64)
        return Hidden(states, mask.astype(bool), offsets)


def _pieces(lengths: np.ndarray, batch_tokens: int) -> list[tuple[int, int]]:
    """Consecutive runs of texts whose padded size (texts x the longest) stays within the budget;
    a text longer than the budget runs alone."""
    pieces, start, longest = [], 0, 0
    for i, length in enumerate(lengths):
        longest_with = max(longest, int(length))
        if i > start and (i - start + 1) * longest_with > batch_tokens:
            pieces.append((start, i))
            start, longest_with = i, int(length)
        longest = longest_with
    if len(lengths):
        pieces.append((start, len(lengths)))
    return pieces


def onnx_ready(model_dir: Path) -> bool:
    """An ONNX twin is only made for a local model folder with a fast tokenizer (the packaged one)."""
    return (model_dir / "tokenizer.json").is_file() and (model_dir / "config.json").is_file()


def transformer_folder(model_name: str) -> str:
    """Where a sentence-transformers model keeps its transformer: the folder itself, or the
    subfolder its modules.json names (older models' "0_Transformer"); a hub name is passed on."""
    folder = Path(model_name)
    try:
        modules = json.loads((folder / "modules.json").read_text())
    except (OSError, ValueError):
        return model_name
    for module in modules:
        if str(module.get("type", "")).endswith(".Transformer"):
            return str(folder / module.get("path", ""))
    return model_name


def max_length(model_dir: Path) -> int:
    try:
        return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, KeyError, ValueError):
        return 512
