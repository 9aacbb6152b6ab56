"""Model configuration: typed dataclasses, named presets, YAML load/save, validation.

`ModelConfig.from_yaml(path)` accepts the encoder either as a preset name (`encoder: paper`) or as a mapping
(`encoder: {preset: tiny, depth: 2}`), so a config file only states what differs from a preset.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from anyecg.errors import ConfigError
from anyecg.leads import N_LEADS
from anyecg.timebase import CLIP_SAMPLES, PATCH_SAMPLES

STEMS = ("linear", "conv")  # linear: LayerNorm→Linear→LayerNorm (paper); conv: small 1-D conv per patch
TOKEN_MODES = ("all", "present_leads", "beats")
# all: CLS + 60 patches per clip (paper); present_leads: drop absent leads' tokens; beats: one token per detected
# beat from the pretrained BeatEncoder, its time written as text (docs/perception.md)
CONNECTORS = ("mlp2x_gelu", "linear")
DTYPES = ("float32", "bfloat16", "float16")
ECG_TOKEN_STRATEGIES = ("auto", "added", "reserved")  # auto: reserved tokens when the tokenizer has them


@dataclass
class EncoderConfig:
    """ECG ViT sizes. Patches are 1 lead × `patch_samples` samples of a 10 s, 100 Hz clip."""

    dim: int = 192
    depth: int = 4
    heads: int = 4
    dim_head: int = 48
    mlp_dim: int = 768
    dropout: float = 0.1
    emb_dropout: float = 0.1
    patch_samples: int = PATCH_SAMPLES
    stem: str = "linear"
    token_mode: str = "all"
    beat_weights: str | None = None  # token_mode beats: BeatEncoder safetensors (None = the packaged weights)
    beat_hints: bool = False  # token_mode beats: write the BeatEncoder head's class of each beat in the prompt

    @property
    def patches_per_lead(self) -> int:
        return CLIP_SAMPLES // self.patch_samples

    @property
    def tokens_per_clip(self) -> int:
        """CLS + all patch tokens of a 12-lead clip (61 for the paper)."""
        return 1 + N_LEADS * self.patches_per_lead

    def validate(self) -> None:
        for name in ("dim", "depth", "heads", "dim_head", "mlp_dim", "patch_samples"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"encoder.{name} must be a positive integer, got {value!r}")
        if CLIP_SAMPLES % self.patch_samples:
            raise ConfigError(f"encoder.patch_samples={self.patch_samples} must divide the clip length "
                              f"{CLIP_SAMPLES}")
        for name in ("dropout", "emb_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"encoder.{name} must be in [0, 1), got {value!r}")
        _check_choice("encoder.stem", self.stem, STEMS)
        _check_choice("encoder.token_mode", self.token_mode, TOKEN_MODES)


ENCODER_PRESETS: dict[str, EncoderConfig] = {
    # ViT-base of the official code (ecgvit.py ecg_vit_base): 85.2 M parameters.
    "paper": EncoderConfig(dim=768, depth=12, heads=12, dim_head=64, mlp_dim=3072, dropout=0.1, emb_dropout=0.1),
    # Trainable on 2 CPU cores: 1.8 M parameters.
    "tiny": EncoderConfig(dim=192, depth=4, heads=4, dim_head=48, mlp_dim=768, dropout=0.1, emb_dropout=0.1),
}


def encoder_preset(name: str, **overrides: Any) -> EncoderConfig:
    """A named encoder size (`paper`, `tiny`) with optional field overrides."""
    if name not in ENCODER_PRESETS:
        raise ConfigError(f"unknown encoder preset {name!r}; known: {', '.join(ENCODER_PRESETS)}")
    cfg = dataclasses.replace(ENCODER_PRESETS[name], **overrides)
    cfg.validate()
    return cfg


@dataclass
class LoraSettings:
    """peft LoRA on the LLM (paper: r=8, alpha=16, dropout 0.1 on q and k projections)."""

    enabled: bool = True
    r: int = 8
    alpha: int = 16
    dropout: float = 0.1
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj"])

    def validate(self) -> None:
        if self.r <= 0 or self.alpha <= 0:
            raise ConfigError(f"lora.r and lora.alpha must be positive, got r={self.r}, alpha={self.alpha}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"lora.dropout must be in [0, 1), got {self.dropout!r}")
        if not self.target_modules or not all(isinstance(t, str) for t in self.target_modules):
            raise ConfigError(f"lora.target_modules must be a non-empty list of module names, "
                              f"got {self.target_modules!r}")


@dataclass
class ModelConfig:
    """The whole anyECG-chat model: encoder → connector → LLM with LoRA."""

    encoder: EncoderConfig = field(default_factory=lambda: encoder_preset("tiny"))
    connector: str = "mlp2x_gelu"
    connector_hidden: int | None = None  # None: the LLM's hidden size (official: 768→4096→4096)
    llm: str = "smollm2"  # "smollm2" (embedded GGUF), "tiny" (random, for tests), a HF dir or a .gguf file
    dtype: str = "float32"  # LLM weights; the encoder and connector stay float32 (official)
    lora: LoraSettings = field(default_factory=LoraSettings)
    max_length: int = 1024  # tokens per sample; a 60 s ECG takes 363 of them
    ecg_tokens: str = "auto"

    def validate(self) -> None:
        self.encoder.validate()
        self.lora.validate()
        _check_choice("connector", self.connector, CONNECTORS)
        _check_choice("dtype", self.dtype, DTYPES)
        _check_choice("ecg_tokens", self.ecg_tokens, ECG_TOKEN_STRATEGIES)
        if self.connector_hidden is not None and self.connector_hidden <= 0:
            raise ConfigError(f"connector_hidden must be positive or null, got {self.connector_hidden!r}")
        if not isinstance(self.max_length, int) or self.max_length < 16:
            raise ConfigError(f"max_length must be an integer ≥ 16, got {self.max_length!r}")
        if not self.llm:
            raise ConfigError("llm must name 'smollm2', 'tiny', a model directory or a .gguf file")

    # ---- YAML -------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | os.PathLike | None = None) -> ModelConfig:
        data = dict(data)
        try:
            encoder = _encoder_from(data.pop("encoder", "tiny"))
            lora = LoraSettings(**(data.pop("lora", None) or {}))
            cfg = cls(encoder=encoder, lora=lora, **data)
        except TypeError as err:  # unknown or missing keys
            raise ConfigError(f"bad model config: {err}", source) from err
        except ConfigError as err:
            raise ConfigError(err.reason, source) from err
        try:
            cfg.validate()
        except ConfigError as err:
            raise ConfigError(err.reason, source) from err
        return cfg

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> ModelConfig:
        try:
            data = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"cannot read model config: {err}", path) from err
        if isinstance(data, dict) and "model" in data and isinstance(data["model"], dict):
            data = data["model"]  # a stage config that embeds the model section
        if not isinstance(data, dict):
            raise ConfigError("model config must be a YAML mapping", path)
        return cls.from_dict(data, source=path)

    def to_yaml(self, path: str | os.PathLike) -> None:
        """Write atomically (temp file + rename)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))
        os.replace(tmp, path)


def _encoder_from(spec: str | dict[str, Any] | EncoderConfig) -> EncoderConfig:
    if isinstance(spec, EncoderConfig):
        return spec
    if isinstance(spec, str):
        return encoder_preset(spec)
    if isinstance(spec, dict):
        spec = dict(spec)
        preset = spec.pop("preset", None)
        if preset is not None:
            return encoder_preset(preset, **spec)
        return EncoderConfig(**spec)
    raise ConfigError(f"encoder must be a preset name or a mapping, got {spec!r}")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
