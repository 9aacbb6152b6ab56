"""Paper-config dry run: build the Llama-3-8B-shaped anyECG-chat model on the `meta` device (no weights, no
memory), print trainable vs frozen parameters per stage and a per-GPU memory estimate for DeepSpeed ZeRO-2/3.

Memory model (bf16 mixed precision, AdamW, DeepSpeed casts every weight to bf16):
  weights 2 B/param (ZeRO-2: replicated; ZeRO-3: partitioned, plus one layer gathered), gradients 2 B per
  trainable param and AdamW fp32 master + moments 12 B per trainable param (both partitioned over GPUs),
  activations with gradient checkpointing: one (b, s, h) bf16 checkpoint per layer + one layer's working
  set (≈34·b·s·h bytes, Korthikanti et al. 2022, flash attention) + logits (b·s·V, bf16 + fp32 for the loss).
CUDA context, allocator fragmentation and communication buckets (≈1–3 GB) are not included.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch
from peft import get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

from anyecg.model.anyecg_chat import AnyECGChatModel, lora_config
from anyecg.model.config import ModelConfig, encoder_preset
from anyecg.model.tokens import RESERVED_STRINGS, ECGTokens

GB = 1024**3
# Meta-Llama-3-8B-Instruct config.json sizes.
LLAMA3_8B = dict(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                 num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=8192,
                 rope_theta=500000.0, rms_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=128000,
                 eos_token_id=128009)
LLAMA3_ECG_TOKENS = ECGTokens(*RESERVED_STRINGS, 128003, 128004, 128005)
# Paper Table 3: trainable parts per stage (encoder, connector, lora).
STAGES = {1: (True, True, False), 2: (True, True, True), 3: (False, True, True)}


@dataclass
class MemoryEstimate:
    zero_stage: int
    weights_gb: float
    grads_gb: float
    optimizer_gb: float
    activations_gb: float

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.grads_gb + self.optimizer_gb + self.activations_gb


def paper_config() -> ModelConfig:
    return ModelConfig(encoder=encoder_preset("paper"), llm="Meta-Llama-3-8B-Instruct", dtype="bfloat16",
                       max_length=512, ecg_tokens="reserved")


def build_meta_model(cfg: ModelConfig) -> AnyECGChatModel:
    """The paper model with Llama-3-8B shapes on the meta device (instant, no memory)."""
    with torch.device("meta"):
        llm = LlamaForCausalLM(LlamaConfig(**LLAMA3_8B)).to(torch.bfloat16)
        if cfg.lora.enabled:
            llm = get_peft_model(llm, lora_config(cfg))
        return AnyECGChatModel(cfg, llm, LLAMA3_ECG_TOKENS)


def estimate_memory(total_params: int, trainable_params: int, layer_params: int, n_gpus: int, micro_batch: int,
                    seq_len: int, llm_cfg: dict, zero_stage: int) -> MemoryEstimate:
    h, n_layers, vocab = llm_cfg["hidden_size"], llm_cfg["num_hidden_layers"], llm_cfg["vocab_size"]
    weights = 2 * total_params / n_gpus + 2 * layer_params if zero_stage == 3 else 2 * total_params
    grads = 2 * trainable_params / n_gpus
    optimizer = 12 * trainable_params / n_gpus
    tokens = micro_batch * seq_len
    activations = 2 * tokens * h * n_layers + 34 * tokens * h + 6 * tokens * vocab
    return MemoryEstimate(zero_stage, weights / GB, grads / GB, optimizer / GB, activations / GB)


def report(cfg: ModelConfig, n_gpus: int, micro_batch: int, seq_len: int) -> str:
    model = build_meta_model(cfg)
    lines = [f"anyECG-chat paper config on meta: encoder {cfg.encoder.dim}/{cfg.encoder.depth} layers, "
             f"Llama-3-8B shapes, LoRA r={cfg.lora.r} on {','.join(cfg.lora.target_modules)}",
             f"per-GPU estimate: {n_gpus} GPUs, micro-batch {micro_batch} × {seq_len} tokens, bf16, "
             f"gradient checkpointing"]
    layer = model.llm.get_base_model().model.layers[0]
    layer_params = sum(p.numel() for p in layer.parameters())
    for stage, (enc, conn, lora) in STAGES.items():
        model.set_trainable(encoder=enc, connector=conn, lora=lora and cfg.lora.enabled)
        c = model.parameter_counts()
        lines.append(f"\nstage {stage}: trainable {c['trainable'] / 1e6:,.1f} M, frozen {c['frozen'] / 1e6:,.1f} M "
                     f"(encoder {c['encoder'] / 1e6:.1f} M, connector {c['connector'] / 1e6:.1f} M, "
                     f"token rows {c['token_rows'] / 1e3:.1f} k, LoRA {c['lora'] / 1e6:.2f} M, "
                     f"LLM {c['llm'] / 1e9:.2f} B)")
        for zero in (2, 3):
            m = estimate_memory(c["total"], c["trainable"], layer_params, n_gpus, micro_batch, seq_len,
                                LLAMA3_8B, zero)
            lines.append(f"  ZeRO-{zero}: {m.total_gb:6.1f} GB/GPU = weights {m.weights_gb:.1f} + grads "
                         f"{m.grads_gb:.2f} + optimizer {m.optimizer_gb:.2f} + activations {m.activations_gb:.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="anyecg-dryrun", description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="model YAML (default: the paper config)")
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--micro-batch", type=int, default=8, help="per GPU (paper: 8 × accumulation 8)")
    parser.add_argument("--seq-len", type=int, default=512, help="tokens per sample (paper max_length 512)")
    args = parser.parse_args(argv)
    cfg = ModelConfig.from_yaml(args.config) if args.config else paper_config()
    print(report(cfg, args.gpus, args.micro_batch, args.seq_len))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
