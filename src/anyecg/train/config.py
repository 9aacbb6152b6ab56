"""Training configs: one typed dataclass tree per stage, loaded from YAML, `key=value` overrides.

Every stage (0 contrastive, 1–3 curriculum) is one YAML file; the stages differ only in these values
(trainable parts, data mix, lr, batch, epochs). The resolved config is saved in every checkpoint.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from anyecg.errors import ConfigError


@dataclass
class SourceConfig:
    """One JSONL file of samples (schema: docs/architecture.md)."""

    path: str
    # Expected uses of each line per epoch: 1 = every line once, 0.1 = a fresh random 10% each epoch
    # (replay of an earlier stage's data), 2 = every line twice.
    weight: float = 1.0


@dataclass
class DataConfig:
    sources: list[SourceConfig] = field(default_factory=list)
    val_sources: list[SourceConfig] = field(default_factory=list)  # held-out (stage 0 recall, eval loss)
    shuffle_buffer: int = 1000  # lines held for the per-epoch shuffle; 1 = file order
    num_workers: int = 0  # DataLoader workers per process (each loads its share of ECGs)
    # Roots of `SOURCE:REL` ECG paths ({mitdb: /data/mitdb, ...}); a manifest.json beside a JSONL file
    # (written by `anyecg data build`) adds its roots too.
    roots: dict[str, str] = field(default_factory=dict)


@dataclass
class TrainableConfig:
    """Which parts learn (DESIGN.md table). Everything else is frozen and stays bit-identical."""

    encoder: bool = True
    connector: bool = True
    lora: bool = False
    lora_from_layer: int = 0  # LoRA learns only in the LLM's layers from this index on


@dataclass
class OptimConfig:
    lr: float = 1e-4
    weight_decay: float = 1e-4  # paper: 1e-4 on every weight except biases
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    warmup_ratio: float = 0.1  # cosine schedule with 10% linear warmup (paper)
    max_grad_norm: float | None = None  # paper: no clipping


@dataclass
class ContrastiveConfig:
    """Stage 0: ECG encoder vs a frozen sentence-transformers text encoder (its embeddings are computed once
    per distinct report and cached; a trainable projection maps them into the shared space)."""

    loss: str = "clip"  # "clip" (InfoNCE, learnable temperature) or "siglip" (pairwise sigmoid)
    text_encoder: str | None = None  # local sentence-transformers dir; None = all-MiniLM-L6-v2 package
    embed_dim: int = 512  # shared embedding size (official checkpoint: 768 -> 512)
    val_fraction: float = 0.1  # held-out share (by sample id hash) when data.val_sources is empty


@dataclass
class TrainConfig:
    stage: int
    model: Any  # the model config as a mapping (ModelConfig.from_dict) or a path to a model YAML
    output_dir: str = "runs/train"
    init_from: str | None = None  # checkpoint dir of the previous stage (weights only)
    init_skip: list[str] = field(default_factory=list)  # weight-name prefixes not taken from init_from
    seed: int = 42
    trainable: TrainableConfig = field(default_factory=TrainableConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    contrastive: ContrastiveConfig = field(default_factory=ContrastiveConfig)
    micro_batch_size: int = 8  # samples per process per forward
    effective_batch_size: int = 64  # micro x processes x accumulation (paper: 256 / 64 / 64)
    epochs: int = 1
    max_steps: int | None = None  # optimizer steps; stops early when set
    mixed_precision: str = "no"  # "no" | "bf16" (autocast on CPU and GPU) | "fp16"
    gradient_checkpointing: bool = False  # recompute LLM activations: less memory, ~30% slower
    log_every: int = 10  # optimizer steps between log lines
    save_every: int = 500  # optimizer steps between checkpoints (0 = only at the end)
    keep_last: int = 2  # step checkpoints kept besides `final`

    def __post_init__(self) -> None:
        if self.stage not in (0, 1, 2, 3):
            raise ConfigError(f"stage must be 0, 1, 2 or 3, got {self.stage}")
        if self.mixed_precision not in ("no", "bf16", "fp16"):
            raise ConfigError(f"mixed_precision must be no, bf16 or fp16, got {self.mixed_precision!r}")
        if self.contrastive.loss not in ("clip", "siglip"):
            raise ConfigError(f"contrastive.loss must be clip or siglip, got {self.contrastive.loss!r}")
        if self.micro_batch_size < 1 or self.effective_batch_size < self.micro_batch_size:
            raise ConfigError("need 1 <= micro_batch_size <= effective_batch_size")
        if self.stage == 0 and (self.trainable.connector or self.trainable.lora):
            raise ConfigError("stage 0 trains only the ECG encoder (trainable.connector/lora must be false)")
        if not any(dataclasses.astuple(self.trainable)):
            raise ConfigError("nothing is trainable")
        if any(s.weight <= 0 for s in self.data.sources + self.data.val_sources):
            raise ConfigError("data source weights must be > 0")

    def grad_accum_steps(self, num_processes: int) -> int:
        """Micro-batches per optimizer step so that micro x processes x accum = effective batch."""
        per_step = self.micro_batch_size * num_processes
        if self.effective_batch_size % per_step:
            raise ConfigError(f"effective_batch_size {self.effective_batch_size} is not a multiple of "
                              f"micro_batch_size x processes = {per_step}")
        return self.effective_batch_size // per_step

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _build(cls: type, data: Any, where: str) -> Any:
    """Build dataclass `cls` from plain YAML data, checking unknown keys and nested types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'} must be a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(where + k for k in unknown)}")
    kwargs = {k: _convert(hints[k], v, f"{where}{k}") for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ConfigError(f"{where or 'config'}: {err}") from None


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where + ".")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list")
        return [_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is tuple:
        return tuple(_convert(a, v, where) for a, v in zip(args, value, strict=True))
    if hint is float and isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            return float(value)  # YAML reads 1e-4 as a string
        except ValueError:
            raise ConfigError(f"{where} must be a number, got {value!r}") from None
    if hint in (int, bool, str) and not isinstance(value, hint):
        raise ConfigError(f"{where} must be {hint.__name__}, got {value!r}")
    return value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply `a.b.c=value` overrides (value parsed as YAML) to a raw config mapping."""
    data = copy.deepcopy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not key=value")
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r}: {part} is not a mapping")
        node[leaf] = yaml.safe_load(raw)
    return data


def load_config(path: str | Path, overrides: list[str] = ()) -> TrainConfig:
    """Read a stage YAML, apply overrides, validate. A relative `model:` path is taken from the CWD."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read config: {err}", path) from None
    try:
        return config_from_dict(data, overrides)
    except ConfigError as err:
        raise ConfigError(err.reason, path) from None


def config_from_dict(data: dict, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """A stage config from a raw mapping (what a stage YAML holds) and `key=value` overrides; validated."""
    return _build(TrainConfig, apply_overrides(data, list(overrides)), "")
