"""`kind: patches`: the paper's ECG ViT over 10 s clips; `<ECG_start>` + N slots + `<ECG_end>` per ECG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from anyecg.errors import ModelError
from anyecg.leads import N_LEADS
from anyecg.model.config import PatchEncoderConfig
from anyecg.model.encoder import ECGViT, n_ecg_tokens
from anyecg.model.kinds.base import PreparedECG
from anyecg.model.tokens import ECGTokens
from anyecg.signal.preprocess import ECGInput
from anyecg.timebase import CLIP_SAMPLES


class PatchKind:
    name: ClassVar[str] = "patches"
    batch_keys: ClassVar[tuple[str, ...]] = ("ecg_clips", "clips_per_ecg", "lead_masks")
    asks_per_clip: ClassVar[bool] = False  # the ViT reads a long window as clips itself
    classifies_beats: ClassVar[bool] = False

    def __init__(self, cfg: PatchEncoderConfig, encoder: nn.Module | None = None):
        self.cfg = cfg

    def build_encoder(self) -> nn.Module:
        return ECGViT(self.cfg)

    def prepare(self, ecg: ECGInput, tokens: ECGTokens) -> PreparedECG:
        clips = np.asarray(ecg.clips, dtype=np.float32)
        if clips.ndim != 3 or clips.shape[1:] != (N_LEADS, CLIP_SAMPLES) or clips.shape[0] == 0:
            raise ModelError(f"ECG clips must have shape (n_clips ≥ 1, {N_LEADS}, {CLIP_SAMPLES}), "
                             f"got {clips.shape}")
        mask = np.asarray(ecg.lead_mask, dtype=bool).reshape(N_LEADS)
        slots = n_ecg_tokens(int(clips.shape[0]), mask, self.cfg)
        tensors = {"clips": torch.from_numpy(np.ascontiguousarray(clips)),  # (n_clips, 12, 1000)
                   "lead_mask": torch.from_numpy(mask.copy())}  # (12,)
        return PreparedECG(ecg, (tokens.block(slots),), slots, tensors)

    def collate(self, prepared: Sequence[PreparedECG]) -> dict[str, Any]:
        clips = [p.tensors["clips"] for p in prepared]
        return {
            "ecg_clips": torch.cat(clips) if clips else torch.zeros(0, N_LEADS, CLIP_SAMPLES),  # (Σclips, 12, 1000)
            "clips_per_ecg": [int(c.shape[0]) for c in clips],
            "lead_masks": torch.stack([p.tensors["lead_mask"] for p in prepared]) if prepared
            else torch.zeros(0, N_LEADS, dtype=torch.bool),  # (n_ecgs, 12)
        }

    def encode(self, encoder: nn.Module, batch: Mapping[str, Any], device: torch.device) -> Tensor:
        clips, per_ecg = batch.get("ecg_clips"), batch.get("clips_per_ecg")
        if clips is None or not per_ecg:
            return torch.zeros(0, encoder.dim, device=device)
        masks = batch.get("lead_masks")
        tokens = encoder.encode_ecgs(clips.to(device=device, dtype=torch.float32), per_ecg,
                                     masks.to(device) if masks is not None else None)  # list of (n_i, D)
        return torch.cat(tokens)

    def beat_classes(self, prepared: PreparedECG) -> set[str] | None:
        return None
