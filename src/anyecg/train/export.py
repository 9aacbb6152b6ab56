"""`anyecg export`: a stage checkpoint → a self-contained model directory with LoRA merged into the LLM.

    DIR/model.yaml        ModelConfig with `llm: llm` (relative to DIR) and LoRA disabled (already merged)
    DIR/llm/              the merged LLM + tokenizer (Hugging Face `save_pretrained`, safetensors)
    DIR/ecg.safetensors   encoder, connector and ECG token rows (`AnyECGChatModel.trainable_state_dict`)

File names and loading (`load_model`, `read_model`) live in `anyecg.model.loading`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from safetensors.torch import save_file

from anyecg.atomic import atomic_dir
from anyecg.model.loading import ECG_WEIGHTS, LLM_DIR, MODEL_YAML, load_checkpoint_model


def export_checkpoint(ckpt: str | Path, out: str | Path) -> Path:
    """Merge LoRA and write the model directory atomically (`anyecg.atomic.atomic_dir`)."""
    ckpt, out = Path(ckpt), Path(out)
    model = load_checkpoint_model(ckpt)
    cfg = model.cfg
    llm = model.llm.merge_and_unload() if cfg.lora.enabled else model.llm
    with atomic_dir(out) as tmp:
        llm.save_pretrained(tmp / LLM_DIR, safe_serialization=True)
        model.tokenizer.save_pretrained(tmp / LLM_DIR)
        weights = {k: v for k, v in model.trainable_state_dict().items() if not k.startswith("llm.")}
        save_file(weights, tmp / ECG_WEIGHTS, metadata={"format": "pt"})
        merged = dataclasses.replace(cfg, llm=LLM_DIR, lora=dataclasses.replace(cfg.lora, enabled=False))
        merged.to_yaml(tmp / MODEL_YAML)
    return out
