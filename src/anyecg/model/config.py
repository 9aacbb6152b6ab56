"""Model configuration: typed dataclasses, named presets, YAML load/save, validation.

The encoder is a tagged union on `kind` (`anyecg.model.kinds`): `encoder: {kind: beats, hints: true}`, or a patch
ViT given as a preset name (`encoder: paper`) or a mapping (`encoder: {preset: tiny, depth: 2}`), so a config
file only states what differs from a preset. Encoder sections written before the kinds (`token_mode:`) are read
by `_legacy_encoder`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from anyecg.atomic import write_atomic
from anyecg.errors import ConfigError
from anyecg.leads import N_LEADS
from anyecg.timebase import CLIP_SAMPLES, PATCH_SAMPLES

STEMS = ("linear", "conv")  # linear: LayerNorm→Linear→LayerNorm (paper); conv: small 1-D conv per patch
PATCH_TOKENS = ("all", "present_leads")  # all: CLS + 60 patches per clip (paper); present_leads: drop absent leads'
CONNECTORS = ("mlp2x_gelu", "linear")
DTYPES = ("float32", "bfloat16", "float16")
ECG_TOKEN_STRATEGIES = ("auto", "added", "reserved")  # auto: reserved tokens when the tokenizer has them


@dataclass
class PatchEncoderConfig:
    """`kind: patches`: the paper's ECG ViT. Patches are 1 lead × `patch_samples` samples of a 10 s, 100 Hz clip;
    `tokens` all (CLS + every patch) or present_leads (the tokens of absent leads dropped)."""

    kind: str = "patches"
    dim: int = 192
    depth: int = 4
    heads: int = 4
    dim_head: int = 48
    mlp_dim: int = 768
    dropout: float = 0.1
    emb_dropout: float = 0.1
    patch_samples: int = PATCH_SAMPLES
    stem: str = "linear"
    tokens: str = "all"

    @property
    def patches_per_lead(self) -> int:
        return CLIP_SAMPLES // self.patch_samples

    @property
    def tokens_per_clip(self) -> int:
        """CLS + all patch tokens of a 12-lead clip (61 for the paper)."""
        return 1 + N_LEADS * self.patches_per_lead

    def validate(self) -> None:
        _check_choice("encoder.kind", self.kind, ("patches",))
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
        _check_choice("encoder.tokens", self.tokens, PATCH_TOKENS)


@dataclass
class BeatsEncoderConfig:
    """`kind: beats`: the pretrained `BeatEncoder`, one slot per detected beat, each beat's time written as text
    before its slot (docs/perception.md). `weights`: BeatEncoder safetensors (None = the packaged weights);
    `hints`: also write the BeatEncoder head's class of each beat."""

    kind: str = "beats"
    weights: str | None = None
    hints: bool = False

    def validate(self) -> None:
        _check_choice("encoder.kind", self.kind, ("beats",))
        if self.weights is not None and not isinstance(self.weights, str):
            raise ConfigError(f"encoder.weights must be a file path or null, got {self.weights!r}")
        if not isinstance(self.hints, bool):
            raise ConfigError(f"encoder.hints must be true or false, got {self.hints!r}")


EncoderConfig = PatchEncoderConfig | BeatsEncoderConfig
ENCODER_CONFIGS: dict[str, type[PatchEncoderConfig] | type[BeatsEncoderConfig]] = {
    "patches": PatchEncoderConfig, "beats": BeatsEncoderConfig}


ENCODER_PRESETS: dict[str, PatchEncoderConfig] = {
    # ViT-base of the official code (ecgvit.py ecg_vit_base): 85.2 M parameters.
    "paper": PatchEncoderConfig(dim=768, depth=12, heads=12, dim_head=64, mlp_dim=3072, dropout=0.1,
                                emb_dropout=0.1),
    # Trainable on 2 CPU cores: 1.8 M parameters.
    "tiny": PatchEncoderConfig(dim=192, depth=4, heads=4, dim_head=48, mlp_dim=768, dropout=0.1, emb_dropout=0.1),
}


def encoder_preset(name: str, **overrides: Any) -> PatchEncoderConfig:
    """A named patch-encoder size (`paper`, `tiny`) with optional field overrides."""
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

    encoder: PatchEncoderConfig | BeatsEncoderConfig = field(default_factory=lambda: encoder_preset("tiny"))
    connector: str = "mlp2x_gelu"
    connector_hidden: int | None = None  # None: the LLM's hidden size (official: 768→4096→4096)
    llm: str = "smollm2"  # "smollm2" (embedded GGUF), "tiny" (random, for tests), a HF dir or a .gguf file
    dtype: str = "float32"  # LLM weights; the encoder and connector stay float32 (official)
    lora: LoraSettings = field(default_factory=LoraSettings)
    max_length: int = 1024  # tokens per sample; a 60 s ECG takes 363 of them
    ecg_tokens: str = "auto"
    findings: bool = False  # write each ECG's machine read as a text block after its tokens (release 3)

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
        """Write atomically (`anyecg.atomic`)."""
        write_atomic(path, yaml.safe_dump(self.to_dict(), sort_keys=False))


def _encoder_from(spec: str | dict[str, Any] | EncoderConfig) -> EncoderConfig:
    """The tagged union: `kind: patches` (default; `preset:` names a size) or `kind: beats`."""
    if isinstance(spec, PatchEncoderConfig | BeatsEncoderConfig):
        return spec
    if isinstance(spec, str):
        return encoder_preset(spec)
    if not isinstance(spec, dict):
        raise ConfigError(f"encoder must be a preset name or a mapping, got {spec!r}")
    spec = _legacy_encoder(spec) if "token_mode" in spec else dict(spec)
    kind = spec.pop("kind", "patches")
    if kind not in ENCODER_CONFIGS:
        raise ConfigError(f"encoder.kind must be one of {', '.join(ENCODER_CONFIGS)}; got {kind!r}")
    preset = spec.pop("preset", None) if kind == "patches" else None
    try:
        cfg = encoder_preset(preset, **spec) if preset is not None else ENCODER_CONFIGS[kind](**spec)
    except TypeError as err:  # a key the kind does not have
        raise ConfigError(f"encoder (kind {kind}): {err}") from err
    cfg.validate()
    return cfg


def _legacy_encoder(spec: dict[str, Any]) -> dict[str, Any]:
    """An encoder section written before the kinds (checkpoints up to 0.x, the first embedded weights): one
    flat record with ViT sizes and `token_mode` all | present_leads | beats. Beat mode keeps only its own keys."""
    spec = dict(spec)
    mode = spec.pop("token_mode")
    weights, hints = spec.pop("beat_weights", None), spec.pop("beat_hints", False)
    if mode == "beats":
        return {"kind": "beats", "weights": weights, "hints": hints}
    return {"kind": "patches", **spec, "tokens": mode}


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
