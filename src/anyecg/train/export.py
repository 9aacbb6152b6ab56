"""`anyecg export`: a stage checkpoint → a self-contained model directory with LoRA merged into the LLM.

    DIR/model.yaml        ModelConfig with `llm: llm` (relative to DIR) and LoRA disabled (already merged)
    DIR/llm/              the merged LLM + tokenizer (Hugging Face `save_pretrained`, safetensors)
    DIR/ecg.safetensors   encoder, connector and ECG token rows (`AnyECGChatModel.trainable_state_dict`)

`load_exported(DIR)` rebuilds the `AnyECGChatModel` from it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import yaml
from safetensors.torch import load_file, save_file

from anyecg.errors import ModelError
from anyecg.model.anyecg_chat import AnyECGChatModel
from anyecg.model.config import ModelConfig
from anyecg.train.checkpoint import CONFIG, init_weights, load_weights

ECG_WEIGHTS = "ecg.safetensors"
MODEL_YAML = "model.yaml"


def checkpoint_model_config(ckpt: Path) -> ModelConfig:
    """The model config saved (resolved) in a stage checkpoint's config.yaml."""
    try:
        data = yaml.safe_load((Path(ckpt) / CONFIG).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ModelError(f"cannot read checkpoint config: {err}", ckpt) from None
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        raise ModelError("checkpoint config has no resolved model section", ckpt)
    if data.get("stage") == 0:
        raise ModelError("a stage-0 checkpoint holds only the ECG encoder; export a stage 1-3 checkpoint", ckpt)
    return ModelConfig.from_dict(data["model"], source=ckpt)


def load_checkpoint_model(ckpt: str | Path) -> AnyECGChatModel:
    """The chat model of a stage checkpoint: base LLM from its config + the checkpoint's trained weights."""
    model = AnyECGChatModel.from_config(checkpoint_model_config(Path(ckpt)))
    init_weights(model, load_weights(ckpt))
    return model


def export_checkpoint(ckpt: str | Path, out: str | Path) -> Path:
    """Merge LoRA and write the model directory atomically (temp dir + rename)."""
    ckpt, out = Path(ckpt), Path(out)
    model = load_checkpoint_model(ckpt)
    cfg = model.cfg
    llm = model.llm.merge_and_unload() if cfg.lora.enabled else model.llm
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    llm.save_pretrained(tmp / "llm", safe_serialization=True)
    model.tokenizer.save_pretrained(tmp / "llm")
    weights = {k: v for k, v in model.trainable_state_dict().items() if not k.startswith("llm.")}
    save_file(weights, tmp / ECG_WEIGHTS, metadata={"format": "pt"})
    merged = dataclasses.replace(cfg, llm="llm", lora=dataclasses.replace(cfg.lora, enabled=False))
    merged.to_yaml(tmp / MODEL_YAML)
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


def load_exported(path: str | Path) -> AnyECGChatModel:
    """Load a directory written by `export_checkpoint`."""
    path = Path(path)
    cfg = ModelConfig.from_yaml(path / MODEL_YAML)
    if not Path(cfg.llm).is_absolute():
        cfg = dataclasses.replace(cfg, llm=str(path / cfg.llm))
    model = AnyECGChatModel.from_config(cfg)
    model.load_trainable_state_dict(load_file(str(path / ECG_WEIGHTS)))
    return model


def load_model(path: str | Path) -> AnyECGChatModel:
    """A stage checkpoint (config.yaml + model.safetensors) or an exported directory (model.yaml)."""
    path = Path(path)
    if not path.is_dir():
        raise ModelError("model checkpoint directory not found", path)
    return load_exported(path) if (path / MODEL_YAML).is_file() else load_checkpoint_model(path)
