"""ECG-encoder kinds (`encoder.kind` in the model config): `patches` (the paper's ViT) and `beats` (one slot per
detected beat). The interface is `base.ECGKind`; a new kind is a config class in `anyecg.model.config`
(`ENCODER_CONFIGS`), a module here and one line in `KINDS`."""

from __future__ import annotations

from torch import nn

from anyecg.model.config import BeatsEncoderConfig, PatchEncoderConfig
from anyecg.model.kinds.base import ECGKind, PreparedECG, TextBlock
from anyecg.model.kinds.beats import BeatKind, BeatsPrepared
from anyecg.model.kinds.patches import PatchKind

KINDS: dict[str, type] = {"patches": PatchKind, "beats": BeatKind}

__all__ = ["KINDS", "BeatKind", "BeatsPrepared", "ECGKind", "PatchKind", "PreparedECG", "TextBlock", "make_kind"]


def make_kind(cfg: PatchEncoderConfig | BeatsEncoderConfig, encoder: nn.Module | None = None) -> ECGKind:
    """The kind of an encoder config. `encoder`: the model's own encoder, used for what the kind computes per ECG
    with it (beats: the classes); None: the kind loads what it needs itself (the processor in training workers)."""
    return KINDS[cfg.kind](cfg, encoder)
