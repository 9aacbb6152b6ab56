"""Conversations + ECGs → model batch: the LLM's own chat template, each `<ecg>` expanded to its exact token count.

Labels are IGNORE_INDEX everywhere except the assistant turns (their text and end-of-turn token); the spans
come from rendering the conversation prefix by prefix, so any prefix-stable chat template works.

Truncation to `max_length` (training batches only) cuts the tail of a sample. A sample whose cut would fall
inside or before the end of an ECG block raises `ModelError` (naming the sample, its length and the block);
generation prompts are never truncated and raise when too long.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from transformers import PreTrainedTokenizerBase

from anyecg.errors import ModelError
from anyecg.findings.read import findings_of
from anyecg.findings.summary import comparison_text, findings_text
from anyecg.model.config import ModelConfig
from anyecg.model.kinds import ECGKind, PreparedECG, TextBlock, make_kind
from anyecg.model.tokens import IGNORE_INDEX, ECGTokens, add_ecg_tokens
from anyecg.prompts import ECG_PLACEHOLDER, ecgs_first
from anyecg.signal.preprocess import ECGInput

ROLES = ("system", "user", "assistant")


def findings_block(ecg: ECGInput) -> str:
    """The machine read of an ECG as text (empty when the input carries no record to read)."""
    found = findings_of(ecg)
    return "" if found is None else findings_text(found)


class ECGChatProcessor:
    """Turns a batch of conversations (each with its list of ECGs, in placeholder order) into model inputs.

    The ECG encoder's kind (`anyecg.model.kinds`) prepares each ECG; `text_blocks` add one text block per ECG
    after the kind's own (see `anyecg.model.kinds.base`). With `model_cfg.findings`, the first extra block is the
    ECG's machine read (`anyecg.findings.summary.findings_text`), and a sample with several ECGs also gets what
    changed from each to the next (`comparison_text`) after its last ECG.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, model_cfg: ModelConfig, tokens: ECGTokens | None = None,
                 kind: ECGKind | None = None, text_blocks: Sequence[TextBlock] = ()):
        self.tokenizer = tokenizer
        self.cfg = model_cfg
        self.tokens = tokens or add_ecg_tokens(tokenizer, None, model_cfg.ecg_tokens)
        self.kind = kind or make_kind(model_cfg.encoder)
        self.text_blocks = ((findings_block,) if model_cfg.findings else ()) + tuple(text_blocks)
        self._stop_ids: list[int] | None = None

    # ---- public ---------------------------------------------------------------------------------------
    def __call__(self, conversations: Sequence[Sequence[dict[str, str]]],
                 ecgs: Sequence[Sequence[ECGInput | PreparedECG]] | None = None, add_generation_prompt: bool = False,
                 padding_side: str = "right") -> dict[str, Any]:
        """Batch dict: input_ids, attention_mask, labels (B, T) and the kind's encoder inputs (`kind.collate`).
        ECGs may be given preprocessed (`ECGInput`) or already prepared (`prepare`)."""
        if padding_side not in ("right", "left"):
            raise ModelError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
        ecgs = ecgs if ecgs is not None else [[] for _ in conversations]
        if len(ecgs) != len(conversations):
            raise ModelError(f"{len(conversations)} conversations but {len(ecgs)} ECG lists")
        prepared = [self._with_comparison([self.prepare(e) for e in sample_ecgs]) for sample_ecgs in ecgs]
        rows = [self.encode_one(i, conv, [p.text for p in ps], sum(p.slots for p in ps), add_generation_prompt)
                for i, (conv, ps) in enumerate(zip(conversations, prepared, strict=True))]
        batch = self._pad([r[0] for r in rows], [r[1] for r in rows], padding_side)
        batch.update(self.kind.collate([p for ps in prepared for p in ps]))
        return batch

    def prepare(self, ecg: ECGInput | PreparedECG) -> PreparedECG:
        """What the kind computes for one ECG (once), plus the extra text blocks."""
        if isinstance(ecg, PreparedECG):
            return ecg
        prepared = self.kind.prepare(ecg, self.tokens)
        for block in self.text_blocks:
            prepared = prepared.with_block(block(ecg))
        return prepared

    def _with_comparison(self, prepared: list[PreparedECG]) -> list[PreparedECG]:
        if not self.cfg.findings or len(prepared) < 2:
            return prepared
        reads = [findings_of(p.input) for p in prepared]
        if any(r is None for r in reads):
            return prepared
        return [*prepared[:-1], prepared[-1].with_block(comparison_text(reads))]

    @property
    def stop_token_ids(self) -> list[int]:
        """eos plus the chat template's end-of-turn token (e.g. <|im_end|>, <|eot_id|>)."""
        if self._stop_ids is None:
            conv = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]
            ids, labels = self.encode_one(0, conv, [], 0, False)
            answer = [t for t, lab in zip(ids, labels, strict=True) if lab != IGNORE_INDEX]
            content = self.tokenizer("ok", add_special_tokens=False)["input_ids"]
            eot = answer[len(content)] if len(answer) > len(content) else self.tokenizer.eos_token_id
            self._stop_ids = sorted({eot, self.tokenizer.eos_token_id})
        return self._stop_ids

    # ---- one sample -----------------------------------------------------------------------------------
    def encode_one(self, index: int, conversation: Sequence[dict[str, str]], blocks: list[str], expected: int,
                   add_generation_prompt: bool) -> tuple[list[int], list[int]]:
        """(input_ids, labels) of one sample whose ECGs are written as `blocks` holding `expected` slots in all,
        truncated to max_length as described in the module doc."""
        messages = self._expand(index, conversation, blocks)
        text = self._render(messages, add_generation_prompt)
        spans = self._assistant_spans(index, messages, text)
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids: list[int] = enc["input_ids"]
        labels = [tok if any(a <= start < b for a, b in spans) else IGNORE_INDEX
                  for tok, (start, _) in zip(ids, enc["offset_mapping"], strict=True)]
        found = sum(tok == self.tokens.pad_id for tok in ids)
        if found != expected:
            raise ModelError(f"sample {index}: tokenizer produced {found} ECG slot tokens, expected {expected}; "
                             f"is {self.tokens.pad!r} a special token of this tokenizer?")
        return self._truncate(index, ids, labels, add_generation_prompt)

    def _expand(self, index: int, conversation: Sequence[dict[str, str]], ecg_blocks: list[str]
                ) -> list[dict[str, str]]:
        messages = [dict(m) for m in conversation]
        for m in messages:
            if m.get("role") not in ROLES or not isinstance(m.get("content"), str):
                raise ModelError(f"sample {index}: each message needs a role in {ROLES} and a text content, "
                                 f"got {m!r}")
            if m["role"] != "user" and ECG_PLACEHOLDER in m["content"]:
                raise ModelError(f"sample {index}: {ECG_PLACEHOLDER} may appear only in user turns, "
                                 f"found in a {m['role']} turn")
        n_placeholders = sum(m["content"].count(ECG_PLACEHOLDER) for m in messages)
        if n_placeholders == 0 and ecg_blocks:  # official layout: ECGs before the first user text
            first_user = next((m for m in messages if m["role"] == "user"), None)
            if first_user is None:
                raise ModelError(f"sample {index}: {len(ecg_blocks)} ECGs but no user turn to hold them")
            first_user["content"] = ecgs_first(first_user["content"], len(ecg_blocks))
            n_placeholders = len(ecg_blocks)
        if n_placeholders != len(ecg_blocks):
            raise ModelError(f"sample {index}: {n_placeholders} {ECG_PLACEHOLDER} placeholders but "
                             f"{len(ecg_blocks)} ECGs")
        blocks = iter(ecg_blocks)
        for m in messages:
            if m["role"] == "user":
                parts = m["content"].split(ECG_PLACEHOLDER)
                m["content"] = parts[0] + "".join(next(blocks) + part for part in parts[1:])
        return messages

    def _render(self, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                  add_generation_prompt=add_generation_prompt)

    def _assistant_spans(self, index: int, messages: list[dict[str, str]], text: str) -> list[tuple[int, int]]:
        """Character spans of each assistant turn's text + end-of-turn token (trailing whitespace excluded)."""
        spans = []
        for k, m in enumerate(messages):
            if m["role"] != "assistant":
                continue
            before = self._render(messages[:k], True) if k else ""
            after = self._render(messages[: k + 1], False)
            if not (text.startswith(after) and after.startswith(before)):
                raise ModelError(f"sample {index}: the chat template is not prefix-stable at turn {k}; "
                                 f"cannot locate the assistant tokens")
            spans.append((len(before), len(after.rstrip())))
        return spans

    def _truncate(self, index: int, ids: list[int], labels: list[int], generation: bool
                  ) -> tuple[list[int], list[int]]:
        limit = self.cfg.max_length
        if len(ids) <= limit:
            return ids, labels
        if generation:
            raise ModelError(f"sample {index}: prompt has {len(ids)} tokens, more than max_length {limit}; "
                             f"shorten the ECG window or the conversation")
        last_end = max((j for j, t in enumerate(ids) if t == self.tokens.end_id), default=-1) + 1
        if last_end > limit:
            raise ModelError(f"sample {index}: {len(ids)} tokens exceed max_length {limit} and the cut would "
                             f"split the ECG block ending at token {last_end}; shorten the ECG window or raise "
                             f"max_length")
        return ids[:limit], labels[:limit]

    # ---- batch ----------------------------------------------------------------------------------------
    def _pad(self, ids: list[list[int]], labels: list[list[int]], side: str) -> dict[str, Tensor]:
        width = max((len(r) for r in ids), default=0)
        pad_id = self.tokenizer.pad_token_id
        out_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)  # (B, T)
        out_labels = torch.full((len(ids), width), IGNORE_INDEX, dtype=torch.long)  # (B, T)
        mask = torch.zeros((len(ids), width), dtype=torch.long)  # (B, T)
        for i, (row, lab) in enumerate(zip(ids, labels, strict=True)):
            cols = slice(0, len(row)) if side == "right" else slice(width - len(row), width)
            out_ids[i, cols] = torch.tensor(row, dtype=torch.long)
            out_labels[i, cols] = torch.tensor(lab, dtype=torch.long)
            mask[i, cols] = 1
        return {"input_ids": out_ids, "attention_mask": mask, "labels": out_labels}
