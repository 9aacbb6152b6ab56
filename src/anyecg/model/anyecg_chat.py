"""AnyECGChatModel: ECG encoder → connector → embeddings spliced into a (LoRA-wrapped) causal LM.

Trainable parts and their stable state-dict prefixes (`trainable_state_dict`):
  ecg_encoder.*          the ECG ViT
  connector.*            the 2-layer MLP
  token_embeds.weight    rows for the ECG start and end tokens (2, d_llm); the slot rows are always overwritten
  llm.*lora_*            LoRA A/B matrices (peft names)
The LLM's own weights are always frozen.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from peft import LoraConfig, get_peft_model
from torch import Tensor, nn
from transformers import PreTrainedModel, PreTrainedTokenizerBase
from transformers.modeling_outputs import CausalLMOutputWithPast

from anyecg.errors import ConfigError, ModelError
from anyecg.model.config import ModelConfig
from anyecg.model.connector import build_connector
from anyecg.model.kinds import make_kind
from anyecg.model.llm import load_llm
from anyecg.model.processor import ECGChatProcessor
from anyecg.model.state import check_keys
from anyecg.model.tokens import ECGTokens, add_ecg_tokens

_LAYER = re.compile(r"\.layers\.(\d+)\.")  # an LLM parameter's decoder layer

TRAINABLE_PREFIXES = ("ecg_encoder.", "connector.", "token_embeds.")


def is_trainable_name(name: str) -> bool:
    """Whether a parameter name of AnyECGChatModel belongs to the trainable parts (checkpointed)."""
    return name.startswith(TRAINABLE_PREFIXES) or (name.startswith("llm.") and "lora_" in name)


def splice_ecg_embeddings(inputs_embeds: Tensor, input_ids: Tensor, ecg_embeds: Tensor, ecg_pad_id: int) -> Tensor:
    """Write the ECG embeddings (N, D) into the N slot positions of inputs_embeds (B, T, D), row-major."""
    mask = (input_ids == ecg_pad_id).unsqueeze(-1)  # (B, T, 1)
    n_slots = int(mask.sum())
    if n_slots != ecg_embeds.shape[0]:
        raise ModelError(f"input_ids hold {n_slots} ECG slot tokens but {ecg_embeds.shape[0]} ECG embeddings "
                         f"were computed")
    return inputs_embeds.masked_scatter(mask.expand_as(inputs_embeds), ecg_embeds.to(inputs_embeds.dtype))


def lora_config(cfg: ModelConfig) -> LoraConfig:
    lo = cfg.lora
    return LoraConfig(r=lo.r, lora_alpha=lo.alpha, lora_dropout=lo.dropout, target_modules=list(lo.target_modules),
                      bias="none", task_type="CAUSAL_LM")


class AnyECGChatModel(nn.Module):
    def __init__(self, cfg: ModelConfig, llm: PreTrainedModel, tokens: ECGTokens,
                 tokenizer: PreTrainedTokenizerBase | None = None, stop_token_ids: Sequence[int] = ()):
        super().__init__()
        self.cfg = cfg
        self.tokens = tokens
        self.tokenizer = tokenizer
        self.stop_token_ids = list(stop_token_ids)
        self.lora_merged = False
        self.llm = llm
        embedding = llm.get_input_embeddings()
        self.kind = make_kind(cfg.encoder)
        self.ecg_encoder = self.kind.build_encoder()
        self.connector = build_connector(cfg, self.ecg_encoder.dim, embedding.embedding_dim)
        rows = embedding.weight.detach()[[tokens.start_id, tokens.end_id]].float()  # (2, D)
        self.token_embeds = nn.Embedding(2, embedding.embedding_dim, _weight=rows.clone())
        self.set_trainable(encoder=True, connector=True, lora=cfg.lora.enabled)

    @classmethod
    def from_config(cls, cfg: ModelConfig, llm: PreTrainedModel | None = None,
                    tokenizer: PreTrainedTokenizerBase | None = None) -> AnyECGChatModel:
        """Load the LLM (unless given), register the ECG tokens, attach LoRA, build encoder and connector."""
        cfg.validate()
        if llm is None:
            llm, tokenizer = load_llm(cfg.llm, cfg.dtype)
        elif tokenizer is None:
            raise ModelError("from_config: pass the tokenizer together with the llm")
        tokens = add_ecg_tokens(tokenizer, llm, cfg.ecg_tokens)
        stop_ids = ECGChatProcessor(tokenizer, cfg, tokens).stop_token_ids
        if cfg.lora.enabled:
            llm = get_peft_model(llm, lora_config(cfg))
        return cls(cfg, llm, tokens, tokenizer, stop_ids)

    def processor(self, share_encoder: bool = False) -> ECGChatProcessor:
        """The processor of this model. share_encoder: what the kind computes per ECG with an encoder (the beat
        classes) uses this model's own, on its device (inference); else a CPU copy (training's DataLoader
        workers must not hold the model)."""
        if self.tokenizer is None:
            raise ModelError("this model was built without a tokenizer")
        kind = make_kind(self.cfg.encoder, self.ecg_encoder) if share_encoder else None
        return ECGChatProcessor(self.tokenizer, self.cfg, self.tokens, kind)

    # ---- forward --------------------------------------------------------------------------------------
    def encode_ecg(self, **ecg_inputs: Any) -> Tensor:
        """The kind's encoder inputs from the processor (`kind.batch_keys`) → connector outputs (Σ slots, d_llm),
        ECGs in order."""
        device = self.token_embeds.weight.device
        return self.connector(self.kind.encode(self.ecg_encoder, ecg_inputs, device))

    def embed_inputs(self, input_ids: Tensor, **ecg_inputs: Any) -> Tensor:
        """Token embeddings with trainable ECG start/end rows and the ECG embeddings spliced in (B, T, D).
        `ecg_inputs`: the processor's encoder inputs (see `encode_ecg`)."""
        embeds = self.llm.get_input_embeddings()(input_ids)  # (B, T, D)
        for row, token_id in enumerate((self.tokens.start_id, self.tokens.end_id)):
            at = (input_ids == token_id).unsqueeze(-1)  # (B, T, 1)
            embeds = torch.where(at, self.token_embeds.weight[row].to(embeds.dtype), embeds)
        ecg = self.encode_ecg(**{k: v for k, v in ecg_inputs.items() if k in self.kind.batch_keys})  # (N, D)
        return splice_ecg_embeddings(embeds, input_ids, ecg, self.tokens.pad_id)

    def forward(self, input_ids: Tensor, attention_mask: Tensor, labels: Tensor | None = None,
                **ecg_inputs: Any) -> CausalLMOutputWithPast:
        embeds = self.embed_inputs(input_ids, **ecg_inputs)  # (B, T, D)
        position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)  # (B, T), left padding safe
        return self.llm(inputs_embeds=embeds, attention_mask=attention_mask, position_ids=position_ids,
                        labels=labels)

    @torch.no_grad()
    def prefill(self, batch: Mapping[str, Any]) -> Any:
        """The LLM's KV cache over a one-item prompt from the processor, all but its last token: what
        `generate(..., prefilled=...)` starts from, so that several generations whose prompts begin with this one
        (beam searches, answers with forced beginnings) pay its prefill once."""
        if batch["input_ids"].shape[0] != 1:
            raise ModelError("prefill takes a batch of one prompt")
        embeds = self._batch_embeds(batch)
        n = embeds.shape[1] - 1
        mask = batch["attention_mask"][:, :n].to(embeds.device)
        return self.llm(inputs_embeds=embeds[:, :n], attention_mask=mask, use_cache=True).cache

    def _batch_embeds(self, batch: Mapping[str, Any]) -> Tensor:
        """`embed_inputs` of a processor batch, on the model's device."""
        device = self.token_embeds.weight.device  # the batch may come from the CPU processor
        return self.embed_inputs(batch["input_ids"].to(device),
                                 **{k: v for k, v in batch.items() if k in self.kind.batch_keys})

    @torch.no_grad()
    def generate(self, batch: Mapping[str, Any], max_new_tokens: int = 256, do_sample: bool = False,
                 temperature: float = 0.6, top_p: float = 0.9, streamer: Any = None, prefilled: Any = None,
                 **kwargs: Any) -> Tensor:
        """New token ids (B, ≤max_new_tokens), KV-cached; batch from the processor with padding_side="left".

        `streamer` (e.g. transformers.TextIteratorStreamer) receives tokens as they are produced (batch of 1).
        `prefilled`: `prefill` of a prompt this one-item batch begins with (left untouched: it is copied, once per
        beam); the same tokens as without it, without computing that prompt again.
        """
        mask = batch["attention_mask"].to(self.token_embeds.weight.device)
        if mask.shape[0] > 1 and bool((mask[:, -1] == 0).any()):
            raise ModelError("batched generation needs left padding (processor padding_side='left')")
        embeds = self._batch_embeds(batch)
        if prefilled is not None:
            if mask.shape[0] != 1 or prefilled.get_seq_length() >= mask.shape[1]:
                raise ModelError("a prefilled prompt needs a batch of one prompt that begins with it")
            prefilled = copy.deepcopy(prefilled)
            if kwargs.get("num_beams", 1) > 1:
                prefilled.batch_repeat_interleave(kwargs["num_beams"])
            kwargs["cache"] = prefilled
        sampling = {"temperature": temperature, "top_p": top_p} if do_sample else {"temperature": None,
                                                                                   "top_p": None, "top_k": None}
        pad_id = self.tokenizer.pad_token_id if self.tokenizer is not None else None
        with warnings.catch_warnings():
            # generating from `inputs_embeds` (the prompt holds ECG embeddings), a repetition penalty applies to the
            # new tokens only, as intended (`anyecg.prompts.REPORT_SAMPLING`); transformers warns on every call
            warnings.filterwarnings("ignore", message="Passing `repetition_penalty` with `inputs_embeds`")
            return self.llm.generate(inputs_embeds=embeds, attention_mask=mask, max_new_tokens=max_new_tokens,
                                     do_sample=do_sample, streamer=streamer, pad_token_id=pad_id,
                                     eos_token_id=self.stop_token_ids or None, **sampling, **kwargs)

    # ---- trainable parts ------------------------------------------------------------------------------
    def set_trainable(self, encoder: bool, connector: bool, lora: bool, lora_from_layer: int = 0) -> None:
        """Freeze everything, then unfreeze the chosen parts (connector includes the ECG token rows). LoRA learns
        only in the LLM's layers ≥ `lora_from_layer`: with the encoder and connector frozen, the backward pass then
        stops at that layer (a cheaper step on a CPU)."""
        if lora and not self.cfg.lora.enabled:
            raise ConfigError("set_trainable(lora=True) but lora.enabled is false in the model config")
        for name, p in self.named_parameters():
            layer = _LAYER.search(name)
            p.requires_grad_(
                (encoder and name.startswith("ecg_encoder."))
                or (connector and name.startswith(("connector.", "token_embeds.")))
                or (lora and name.startswith("llm.") and "lora_" in name
                    and (layer is None or int(layer.group(1)) >= lora_from_layer)))

    def trainable_state_dict(self) -> dict[str, Tensor]:
        """Encoder, connector, ECG token rows and LoRA weights (whether or not trainable in this stage)."""
        return {n: p.detach().cpu().contiguous() for n, p in self.named_parameters() if is_trainable_name(n)}

    def load_trainable_state_dict(self, state: Mapping[str, Tensor], source: Any = None) -> None:
        """Load weights saved by `trainable_state_dict`; missing, unexpected or mis-shaped keys raise
        (`anyecg.model.state.check_keys`, naming them and `source`)."""
        if self.lora_merged:
            raise ModelError("load_trainable_state_dict after merge_lora(): load the weights first, then merge")
        params = {n: p for n, p in self.named_parameters() if is_trainable_name(n)}
        check_keys(params, state, source)
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(state[n].to(device=p.device, dtype=p.dtype))

    def parameter_counts(self) -> dict[str, int]:
        """Parameters per part, plus trainable (requires_grad now) and frozen totals."""
        counts = {"encoder": 0, "connector": 0, "token_rows": 0, "lora": 0, "llm": 0, "trainable": 0, "frozen": 0}
        for name, p in self.named_parameters():
            n = p.numel()
            part = ("encoder" if name.startswith("ecg_encoder.") else "connector" if name.startswith("connector.")
                    else "token_rows" if name.startswith("token_embeds.") else "lora" if "lora_" in name else "llm")
            counts[part] += n
            counts["trainable" if p.requires_grad else "frozen"] += n
        counts["total"] = counts["trainable"] + counts["frozen"]
        return counts

    def merge_lora(self) -> None:
        """Inference only: fold the LoRA update into q/k weights so decoding costs what the bare LLM costs.

        One-way for this instance (no unmerge: repeated merge/unmerge drifts the frozen weights); load the
        trainable weights before merging.
        """
        if self.cfg.lora.enabled and not self.lora_merged:
            self.llm.merge_adapter()
            self.lora_merged = True

    def enable_gradient_checkpointing(self) -> None:
        """Recompute the LLM's activations in backward (non-reentrant: works with frozen inputs)."""
        self.llm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
