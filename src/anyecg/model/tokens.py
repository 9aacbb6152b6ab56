"""ECG token strings and ids: defined once here.

Each ECG in a user turn is written `<ecg>` (`anyecg.prompts.ECG_PLACEHOLDER`) and becomes `<ECG_start>` + N × `<ECG_pad>` + `<ECG_end>` token ids;
the N `<ECG_pad>` slots receive the ECG's N embeddings. With a Llama-3 tokenizer the three tokens map to its
reserved special tokens 1, 2, 3 (ids 128003, 128004, 128005), exactly like the official code, so the
vocabulary and the embedding matrix keep their size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from anyecg.errors import ConfigError

ECG_START = "<ECG_start>"
ECG_END = "<ECG_end>"
ECG_PAD = "<ECG_pad>"
IGNORE_INDEX = -100

# Llama-3 reserved tokens used by the official code for start, end and the embedding slots.
RESERVED_STRINGS = ("<|reserved_special_token_1|>", "<|reserved_special_token_2|>",
                    "<|reserved_special_token_3|>")


@dataclass(frozen=True)
class ECGTokens:
    """The strings and ids that mark ECGs in one tokenizer."""

    start: str
    end: str
    pad: str
    start_id: int
    end_id: int
    pad_id: int

    @property
    def ids(self) -> tuple[int, int, int]:
        return self.start_id, self.end_id, self.pad_id

    def block(self, n_tokens: int) -> str:
        """Text that tokenizes to start, n_tokens × pad, end."""
        return self.start + self.pad * n_tokens + self.end


def _resize_embeddings(model: PreTrainedModel, size: int) -> None:
    """Grow the vocabulary; new input (and untied output) rows = mean of the old rows, deterministic."""
    old = model.get_input_embeddings().num_embeddings
    model.resize_token_embeddings(size, mean_resizing=False)
    with torch.no_grad():
        for emb in {id(m.weight): m for m in (model.get_input_embeddings(), model.get_output_embeddings())
                    if m is not None}.values():
            emb.weight[old:] = emb.weight[:old].mean(0)


def _has_tokens(tokenizer: PreTrainedTokenizerBase, strings: tuple[str, ...]) -> bool:
    vocab = tokenizer.get_vocab()
    return all(s in vocab for s in strings)


def add_ecg_tokens(tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel | None = None,
                   strategy: str = "auto") -> ECGTokens:
    """Register the ECG tokens with `tokenizer` (and resize `model`'s embeddings when tokens are added).

    strategy: "reserved" maps to Llama-3 reserved tokens (error when absent), "added" adds new special tokens,
    "auto" uses reserved tokens when the tokenizer has them. Also sets a pad token (eos) when there is none.
    """
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    use_reserved = strategy == "reserved" or (strategy == "auto" and _has_tokens(tokenizer, RESERVED_STRINGS))
    if strategy == "reserved" and not _has_tokens(tokenizer, RESERVED_STRINGS):
        raise ConfigError("ecg_tokens: reserved needs a tokenizer with Llama-3 reserved special tokens; "
                          "use 'added' or 'auto'")
    if strategy not in ("auto", "added", "reserved"):
        raise ConfigError(f"unknown ecg_tokens strategy {strategy!r}; known: auto, added, reserved")
    strings = RESERVED_STRINGS if use_reserved else (ECG_START, ECG_END, ECG_PAD)
    if not use_reserved:
        missing = [s for s in strings if s not in tokenizer.get_vocab()]
        if missing:
            tokenizer.add_tokens(missing, special_tokens=True)
        if model is not None and model.get_input_embeddings().num_embeddings < len(tokenizer):
            _resize_embeddings(model, len(tokenizer))
    ids = tokenizer.convert_tokens_to_ids(list(strings))
    return ECGTokens(*strings, *ids)
