"""Loading a trained chat model: the file names of checkpoints and exports, one key check, one `load_model`.

Two directory layouts hold a trained model:

    stage checkpoint (`anyecg train`)      config.yaml (resolved training config, `model:` section)
                                           model.safetensors (`AnyECGChatModel.trainable_state_dict`)
    export (`anyecg export`)               model.yaml (ModelConfig, `llm: llm`, LoRA merged)
                                           llm/ (the merged LLM + tokenizer), ecg.safetensors

Both load strictly: every trainable weight must be in the file and every weight in the file must have a place
(`check_keys` names what is missing or unexpected).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
import yaml
from safetensors.torch import load_file
from torch import Tensor

from anyecg.errors import ModelError
from anyecg.model.anyecg_chat import AnyECGChatModel
from anyecg.model.config import ModelConfig

WEIGHTS = "model.safetensors"  # stage checkpoint: trainable weights
CONFIG = "config.yaml"  # stage checkpoint: resolved training config
ECG_WEIGHTS = "ecg.safetensors"  # export: encoder, connector, ECG token rows
MODEL_YAML = "model.yaml"  # export: ModelConfig
LLM_DIR = "llm"  # export: the merged LLM and its tokenizer


def load_weights(path: str | Path) -> dict[str, Tensor]:
    """The trainable weights of a stage checkpoint directory (or a .safetensors file)."""
    path = Path(path)
    file = path / WEIGHTS if path.is_dir() else path
    if not file.is_file():
        raise ModelError(f"no {WEIGHTS} in checkpoint", path)
    return load_file(str(file))


def checkpoint_model_config(ckpt: str | Path) -> ModelConfig:
    """The model config saved (resolved) in a stage checkpoint's config.yaml."""
    try:
        data = yaml.safe_load((Path(ckpt) / CONFIG).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ModelError(f"cannot read checkpoint config: {err}", ckpt) from None
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        raise ModelError("checkpoint config has no resolved model section", ckpt)
    if data.get("stage") == 0:
        raise ModelError("a stage-0 checkpoint holds only the ECG encoder; use a stage 1-3 checkpoint", ckpt)
    return ModelConfig.from_dict(data["model"], source=ckpt)


def load_checkpoint_model(ckpt: str | Path) -> AnyECGChatModel:
    """The chat model of a stage checkpoint: base LLM from its config + the checkpoint's trained weights."""
    model = AnyECGChatModel.from_config(checkpoint_model_config(ckpt))
    model.load_trainable_state_dict(load_weights(ckpt), source=ckpt)
    return model


def load_exported(path: str | Path) -> AnyECGChatModel:
    """The chat model of a directory written by `anyecg export`."""
    path = Path(path)
    cfg = ModelConfig.from_yaml(path / MODEL_YAML)
    if not Path(cfg.llm).is_absolute():
        cfg = dataclasses.replace(cfg, llm=str(path / cfg.llm))
    model = AnyECGChatModel.from_config(cfg)
    model.load_trainable_state_dict(load_file(str(path / ECG_WEIGHTS)), source=path / ECG_WEIGHTS)
    return model


def read_model(path: str | Path) -> AnyECGChatModel:
    """A stage checkpoint or an exported directory, as trained (LoRA not merged, on the CPU)."""
    path = Path(path)
    if not path.is_dir():
        raise ModelError("model checkpoint directory not found", path)
    return load_exported(path) if (path / MODEL_YAML).is_file() else load_checkpoint_model(path)


def load_model(path: str | Path, device: str | torch.device = "cpu") -> AnyECGChatModel:
    """A model for inference: `read_model`, LoRA merged (decoding then costs what the bare LLM costs,
    bench_infer.py), moved to `device`, in eval mode."""
    from anyecg.model.llm import torch_device

    dev = torch_device(device) if isinstance(device, str) else device  # an unknown device fails before the load
    model = read_model(path)
    model.merge_lora()
    return model.to(dev).eval()
