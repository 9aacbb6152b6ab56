"""A tiny random Llama and a small byte-level BPE tokenizer with a ChatML template (`llm: tiny`).

For tests and smoke runs: builds in well under a second, no files, no network. The weights are random, so
answers are noise; the shapes, the chat template and every code path are those of a real model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from anyecg.leads import N_LEADS
from anyecg.timebase import CLIP_SAMPLES, MODEL_FS, n_clips

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_CORPUS = [
    "Sinus rhythm. Premature ventricular contractions. Normal ECG. Atrial fibrillation.",
    "Locate the premature ventricular contraction on this ECG. Duration: 1.9s-3.1s, 6.8s-8.1s",
    "Write the report for this ECG. No Atrial premature beat Found. Left bundle branch block beat.",
    "user assistant system What has changed between these ECGs? The rhythm is now irregular.",
    "0123456789 .,:;-?! abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ",
]


def tiny_tokenizer(vocab_size: int = 384) -> PreTrainedTokenizerFast:
    """Byte-level BPE trained on a few ECG sentences; any text encodes (byte fallback), ChatML template."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    out = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  bos_token="<|endoftext|>", unk_token=None)
    out.chat_template = CHATML_TEMPLATE
    return out


def tiny_llm(vocab_size: int, hidden: int = 64, layers: int = 2, seed: int = 0) -> LlamaForCausalLM:
    """Random Llama: hidden 64, 2 layers, 4 heads (2 KV heads), tied embeddings like SmolLM2.

    Init std 0.2 (not 0.02): a frozen random LM then has logits large enough that the trainable parts can
    drive the loss near zero, as with a trained LM.
    """
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=4 * hidden,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=4096, tie_word_embeddings=True, initializer_range=0.2, bos_token_id=0,
                         eos_token_id=2, pad_token_id=0)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = 0
    model.eval()
    return model


def tiny_llm_and_tokenizer(seed: int = 0) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast]:
    tokenizer = tiny_tokenizer()
    return tiny_llm(len(tokenizer), seed=seed), tokenizer


@dataclass
class SyntheticECG:
    """ECGInput-like random signal: clips float32 (n_clips, 12, 1000) in [-1, 1], lead_mask bool (12,)."""

    clips: np.ndarray
    lead_mask: np.ndarray

    @property
    def n_clips(self) -> int:
        return int(self.clips.shape[0])


def synthetic_ecg(duration_s: float, leads: Sequence[int] | None = None, seed: int = 0) -> SyntheticECG:
    """Random ECG of `duration_s` seconds with the lead slots `leads` present (default all 12); the rest 0."""
    mask = np.zeros(N_LEADS, dtype=bool)
    mask[list(range(N_LEADS)) if leads is None else list(leads)] = True
    n = n_clips(duration_s)
    valid = round(duration_s * MODEL_FS)
    signal = np.zeros((N_LEADS, n * CLIP_SAMPLES), dtype=np.float32)
    signal[mask, :valid] = np.random.default_rng(seed).uniform(-1, 1, (int(mask.sum()), valid))
    clips = signal.reshape(N_LEADS, n, CLIP_SAMPLES).transpose(1, 0, 2).copy()  # (n_clips, 12, 1000)
    return SyntheticECG(clips, mask)
