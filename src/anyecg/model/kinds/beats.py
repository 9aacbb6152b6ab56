"""`kind: beats`: one slot per detected beat from the pretrained `BeatEncoder`, each beat's time written as text
before its slot (`0.4s <ECG_pad> 1.2s <ECG_pad> ...`; with `hints` the head's class too: `0.4s N <ECG_pad>`).

`prepare` detects the beats once; the head's class per beat (`BeatsPrepared.classes`, for the hints, the prescreen
and checks) is computed at most once per prepared ECG, by the model's own encoder when the processor shares it
(`AnyECGChatModel.processor(share_encoder=True)`, inference) or else by a CPU copy of the configured weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from anyecg.model.beats import BeatEncoder, beat_encoder_config, beat_prompt, input_beats, load_beat_encoder
from anyecg.model.config import BeatsEncoderConfig
from anyecg.model.kinds.base import PreparedECG
from anyecg.model.tokens import ECGTokens
from anyecg.signal.beats import BEAT_CLASSES, N_RR, POST_S, PRE_S, WINDOW_FS, Beats
from anyecg.signal.preprocess import ECGInput
from anyecg.timebase import to_samples


@dataclass(frozen=True)
class BeatsPrepared(PreparedECG):
    """A prepared ECG of the beat kind: its detected `beats` and (computed once, on first use) their `classes`."""

    beats: Beats = field(default=None, repr=False)  # type: ignore[assignment]
    classifier: BeatEncoder | None = field(default=None, repr=False, compare=False)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # shared by `with_block` copies

    @property
    def classes(self) -> tuple[str, ...]:
        """The BeatEncoder head's class letter (`BEAT_CLASSES`) of each beat, computed on first use."""
        if "classes" not in self.cache:
            if self.classifier is None:
                raise ValueError("this prepared ECG has no beat classifier")
            self.cache["classes"] = tuple(BEAT_CLASSES[c] for c in self.classifier.predict(self.beats))
        return self.cache["classes"]


class BeatKind:
    name: ClassVar[str] = "beats"
    batch_keys: ClassVar[tuple[str, ...]] = ("beat_windows", "beat_rr", "beats_per_ecg")
    asks_per_clip: ClassVar[bool] = True  # the embedded beat model was trained on 10 s windows
    classifies_beats: ClassVar[bool] = True

    def __init__(self, cfg: BeatsEncoderConfig, encoder: nn.Module | None = None):
        self.cfg = cfg
        self._classifier = encoder  # the model's own encoder (shared), or None: a CPU copy, loaded when needed
        self._beat_cfg = encoder.cfg if isinstance(encoder, BeatEncoder) else beat_encoder_config(cfg.weights)

    def build_encoder(self) -> nn.Module:
        return load_beat_encoder(self.cfg.weights)

    @property
    def classifier(self) -> BeatEncoder:
        if self._classifier is None:
            self._classifier = load_beat_encoder(self.cfg.weights)
        return self._classifier

    def prepare(self, ecg: ECGInput, tokens: ECGTokens) -> PreparedECG:
        beats = input_beats(ecg, norm=self._beat_cfg.norm, context=self._beat_cfg.context)
        prepared = BeatsPrepared(ecg, (), len(beats), {"beat_windows": torch.from_numpy(beats.windows),
                                                       "beat_rr": torch.from_numpy(beats.rr)},
                                 beats=beats, classifier=self.classifier)
        labels = prepared.classes if self.cfg.hints else None
        return prepared.with_block(tokens.start + beat_prompt(beats.times_s, tokens.pad, labels) + tokens.end)

    def collate(self, prepared: Sequence[PreparedECG]) -> dict[str, Any]:
        width = to_samples(PRE_S + POST_S, WINDOW_FS)
        windows = [p.tensors["beat_windows"] for p in prepared]
        rr = [p.tensors["beat_rr"] for p in prepared]
        return {"beat_windows": torch.cat(windows) if windows else torch.zeros(0, self._beat_cfg.in_channels, width),
                "beat_rr": torch.cat(rr) if rr else torch.zeros(0, N_RR),
                "beats_per_ecg": [p.slots for p in prepared]}

    def encode(self, encoder: nn.Module, batch: Mapping[str, Any], device: torch.device) -> Tensor:
        windows, rr = batch.get("beat_windows"), batch.get("beat_rr")
        if windows is None or rr is None or windows.shape[0] == 0:
            return torch.zeros(0, encoder.dim, device=device)
        return encoder(windows.to(device, torch.float32), rr.to(device, torch.float32))  # (Σ beats, dim)

    def beat_classes(self, prepared: PreparedECG) -> set[str] | None:
        if not isinstance(prepared, BeatsPrepared):
            raise TypeError("beat_classes needs an ECG prepared by the beat kind")
        return set(prepared.classes)
