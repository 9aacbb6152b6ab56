"""Conversations + ECGs → model batch: the LLM's own chat template, each `<ecg>` expanded to its exact token count.

Labels are IGNORE_INDEX everywhere except the assistant turns (their text and end-of-turn token); the spans
come from rendering the conversation prefix by prefix, so any prefix-stable chat template works.

Truncation to `max_length` (training batches only) cuts the tail of a sample. A sample whose cut would fall
inside or before the end of an ECG block raises `ModelError` (naming the sample, its length and the block);
generation prompts are never truncated and raise when too long.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor
from transformers import PreTrainedTokenizerBase

from anyecg.errors import ModelError
from anyecg.leads import N_LEADS
from anyecg.model.config import ModelConfig
from anyecg.model.encoder import n_ecg_tokens
from anyecg.model.tokens import ECG_PLACEHOLDER, IGNORE_INDEX, ECGTokens, add_ecg_tokens
from anyecg.timebase import CLIP_SAMPLES

ROLES = ("system", "user", "assistant")


class ECGLike(Protocol):
    """What the processor reads from `anyecg.signal.preprocess.ECGInput`."""

    clips: np.ndarray  # float32 (n_clips, 12, 1000)
    lead_mask: np.ndarray  # bool (12,)


class ECGChatProcessor:
    """Turns a batch of conversations (each with its list of ECGs, in placeholder order) into model inputs."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, model_cfg: ModelConfig, tokens: ECGTokens | None = None):
        self.tokenizer = tokenizer
        self.cfg = model_cfg
        self.tokens = tokens or add_ecg_tokens(tokenizer, None, model_cfg.ecg_tokens)
        self._stop_ids: list[int] | None = None
        self._beat_cfg: Any = None
        self._beat_classifier: Any = None

    # ---- public ---------------------------------------------------------------------------------------
    def __call__(self, conversations: Sequence[Sequence[dict[str, str]]],
                 ecgs: Sequence[Sequence[ECGLike]] | None = None, add_generation_prompt: bool = False,
                 padding_side: str = "right") -> dict[str, Any]:
        """Batch dict: input_ids, attention_mask, labels (B, T); ecg_clips (Σclips, 12, 1000); clips_per_ecg;
        lead_masks (n_ecgs, 12)."""
        if padding_side not in ("right", "left"):
            raise ModelError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
        ecgs = ecgs if ecgs is not None else [[] for _ in conversations]
        if len(ecgs) != len(conversations):
            raise ModelError(f"{len(conversations)} conversations but {len(ecgs)} ECG lists")
        flat = [e for sample_ecgs in ecgs for e in sample_ecgs]
        blocks, slots, tensors = self.ecg_blocks(flat)
        rows, k = [], 0
        for i, (conv, sample_ecgs) in enumerate(zip(conversations, ecgs, strict=True)):
            n = len(sample_ecgs)
            rows.append(self.encode_one(i, conv, blocks[k:k + n], sum(slots[k:k + n]), add_generation_prompt))
            k += n
        batch = self._pad([r[0] for r in rows], [r[1] for r in rows], padding_side)
        batch.update(tensors)
        return batch

    def ecg_blocks(self, ecgs: Sequence[ECGLike]) -> tuple[list[str], list[int], dict[str, Any]]:
        """Per ECG: the text its `<ecg>` becomes and its number of embedding slots; plus the encoder inputs.

        Patch modes: `<ECG_start>` + N × `<ECG_pad>` + `<ECG_end>`, clips for the ViT. Beat mode: the detected
        beats' times as text, each followed by its slot (`0.4s <ECG_pad> 1.2s <ECG_pad> ...`; with `beat_hints`
        the classifier head's class too: `0.4s N <ECG_pad> 1.2s V <ECG_pad>`), and the beats' windows and RR
        features for the BeatEncoder.
        """
        if self.cfg.encoder.token_mode != "beats":
            slots = [self.n_tokens(e) for e in ecgs]
            return [self.tokens.block(n) for n in slots], slots, self._ecg_tensors(list(ecgs))
        from anyecg.model.beats import batch_beats, beat_encoder_config, beat_prompt

        if self._beat_cfg is None:
            self._beat_cfg = beat_encoder_config(self.cfg.encoder.beat_weights)
        beats = batch_beats(ecgs, self._beat_cfg)
        labels = self._beat_labels(beats)
        blocks = [self.tokens.start + beat_prompt(t, self.tokens.pad, lab) + self.tokens.end
                  for t, lab in zip(beats.times_s, labels, strict=True)]
        return blocks, list(beats.counts), {"beat_windows": beats.windows, "beat_rr": beats.rr,
                                            "beats_per_ecg": list(beats.counts)}

    def _beat_labels(self, beats: Any) -> list[list[str] | None]:
        """Per ECG, the class letter of each beat from the BeatEncoder's own head (`beat_hints`), else None.
        The head is the packaged or `beat_weights` encoder, loaded once on the CPU (frozen in every recipe)."""
        if not self.cfg.encoder.beat_hints:
            return [None] * len(beats.counts)
        from anyecg.model.beats import BEAT_CLASSES, load_beat_encoder

        if self._beat_classifier is None:
            self._beat_classifier = load_beat_encoder(self.cfg.encoder.beat_weights)
        with torch.no_grad():
            classes = self._beat_classifier.logits(beats.windows, beats.rr).argmax(-1).tolist() \
                if len(beats.windows) else []
        out, k = [], 0
        for n in beats.counts:
            out.append([BEAT_CLASSES[c] for c in classes[k:k + n]])
            k += n
        return out

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

    def n_tokens(self, ecg: ECGLike) -> int:
        """Embedding slots one ECG takes (without its start/end tokens)."""
        return n_ecg_tokens(int(ecg.clips.shape[0]), np.asarray(ecg.lead_mask), self.cfg.encoder)

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
            first_user["content"] = ECG_PLACEHOLDER * len(ecg_blocks) + first_user["content"]
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

    @staticmethod
    def _ecg_tensors(ecgs: list[ECGLike]) -> dict[str, Any]:
        clips = []
        for e in ecgs:
            c = np.asarray(e.clips, dtype=np.float32)
            if c.ndim != 3 or c.shape[1:] != (N_LEADS, CLIP_SAMPLES) or c.shape[0] == 0:
                raise ModelError(f"ECG clips must have shape (n_clips ≥ 1, {N_LEADS}, {CLIP_SAMPLES}), "
                                 f"got {c.shape}")
            clips.append(torch.from_numpy(np.ascontiguousarray(c)))
        return {
            "ecg_clips": torch.cat(clips) if clips else torch.zeros(0, N_LEADS, CLIP_SAMPLES),  # (Σclips, 12, 1000)
            "clips_per_ecg": [int(c.shape[0]) for c in clips],
            "lead_masks": torch.tensor(np.array([np.asarray(e.lead_mask, dtype=bool) for e in ecgs]).reshape(
                -1, N_LEADS)),  # (n_ecgs, 12)
        }
