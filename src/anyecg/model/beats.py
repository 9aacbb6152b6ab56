"""Beat-synchronous ECG perception for the LLM: `BeatEncoder` (one embedding and class per beat), the prescreen,
and the beat prompt.

Instead of patch tokens, each detected beat becomes one ECG token and its time is written into the prompt as text
(`beat_prompt`), so the LLM classifies beats and copies times instead of regressing positions. Detection, windows
and RR features are signal processing and live in `anyecg.signal.beats`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from anyecg.atomic import atomic_path
from anyecg.leads import CANONICAL_LEADS
from anyecg.signal.beats import (
    BEAT_CLASSES,
    CLASS_SYMBOL,
    N_RR,
    SYMBOL_CLASS,
    Beats,
    extract_beats,
)
from anyecg.signal.intervals import Interval, beat_intervals
from anyecg.signal.preprocess import ECGInput
from anyecg.timebase import MODEL_FS

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "beat_encoder.safetensors"


def input_beats(ecg: ECGInput, norm: str = "local", context: bool = False) -> Beats:
    """Beats of a preprocessed ECG (100 Hz, min-max scaled, present leads only): what the processor holds.
    Sample indices are at 100 Hz from the window start."""
    present = np.flatnonzero(ecg.lead_mask)
    return extract_beats(ecg.signal[present], MODEL_FS, [CANONICAL_LEADS[i] for i in present], norm=norm,
                         context=context)


def screened_out(symbol: str, present: set[str]) -> bool:
    """The prescreen: a question about beats of type `symbol` (WFDB) is answered "none" without the LLM when
    the head found no beat of its class. Symbols the head has no class for are never screened out."""
    return symbol in SYMBOL_CLASS and SYMBOL_CLASS[symbol] not in present


# ---- encoder ---------------------------------------------------------------------------------------------
@dataclass
class BeatEncoderConfig:
    """Sizes of the beat encoder; `norm` and `context` record how its inputs were made (see `beat_windows`,
    `with_context`)."""

    dim: int = 128
    width: int = 16
    n_leads: int = 2
    n_rr: int = N_RR
    n_classes: int = len(BEAT_CLASSES)
    dropout: float = 0.2
    norm: str = "local"
    context: bool = False

    @property
    def in_channels(self) -> int:
        return self.n_leads * (2 if self.context else 1)


def _conv(c_in: int, c_out: int, k: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv1d(c_in, c_out, k, stride, k // 2, bias=False), nn.BatchNorm1d(c_out), nn.ReLU())


class BeatEncoder(nn.Module):
    """1-D CNN over a beat window + MLP over its RR features → one embedding per beat; linear class head."""

    def __init__(self, cfg: BeatEncoderConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or BeatEncoderConfig()
        w = cfg.width
        self.cnn = nn.Sequential(_conv(cfg.in_channels, w, 7), _conv(w, 2 * w, 5, 2), _conv(2 * w, 2 * w, 5),
                                 _conv(2 * w, 4 * w, 3, 2), _conv(4 * w, 4 * w, 3))
        self.rr = nn.Sequential(nn.Linear(cfg.n_rr, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.fuse = nn.Sequential(nn.Linear(8 * w + 32, cfg.dim), nn.GELU(), nn.LayerNorm(cfg.dim))
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(cfg.dim, cfg.n_classes))

    @property
    def dim(self) -> int:
        return self.cfg.dim

    def forward(self, windows: Tensor, rr: Tensor) -> Tensor:
        """Embeddings [n, dim] for windows [n, in_channels, W] and RR features [n, 6]."""
        h = self.cnn(windows)
        pooled = torch.cat([h.mean(-1), h.amax(-1)], dim=-1)
        return self.fuse(torch.cat([pooled, self.rr(torch.log(rr + 0.05))], dim=-1))

    def logits(self, windows: Tensor, rr: Tensor) -> Tensor:
        return self.head(self(windows, rr))

    @torch.no_grad()
    def predict(self, beats: Beats) -> np.ndarray:
        """Class index per beat (eval mode; empty in, empty out)."""
        if not len(beats):
            return np.zeros(0, dtype=np.int64)
        self.eval()
        device = next(self.parameters()).device
        logits = self.logits(torch.from_numpy(beats.windows).to(device), torch.from_numpy(beats.rr).to(device))
        return logits.argmax(-1).cpu().numpy()


def save_beat_encoder(model: BeatEncoder, path: str | Path, extra: dict | None = None) -> None:
    """safetensors with the config (and `extra`, e.g. the training command) as JSON metadata; atomic."""
    from safetensors.torch import save_file

    meta = {"config": json.dumps(asdict(model.cfg)), **{k: json.dumps(v) for k, v in (extra or {}).items()}}
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp), metadata=meta)


def beat_encoder_config(path: str | Path | None = None) -> BeatEncoderConfig:
    """The config stored with trained weights (default: the project's committed weights)."""
    from safetensors import safe_open

    with safe_open(str(Path(path or DEFAULT_WEIGHTS)), "pt") as f:
        return BeatEncoderConfig(**json.loads(f.metadata()["config"]))


def load_beat_encoder(path: str | Path | None = None) -> BeatEncoder:
    """A trained `BeatEncoder` in eval mode (default: the project's committed weights)."""
    from safetensors.torch import load_file

    path = Path(path or DEFAULT_WEIGHTS)
    model = BeatEncoder(beat_encoder_config(path))
    model.load_state_dict(load_file(str(path)))
    return model.eval()


# ---- from beats to answers and prompts ---------------------------------------------------------------------
def predicted_intervals(sample: np.ndarray, classes: Sequence[int], target: str, n_samples: int,
                        fs: float) -> list[Interval]:
    """The paper's interval rule on predicted beats: each beat predicted as `target`'s class (WFDB symbol, e.g.
    'V', 'A') spans from the previous to the next detected beat, clipped to [0, n_samples) and merged."""
    symbols = [CLASS_SYMBOL[BEAT_CLASSES[c]] for c in classes]
    return beat_intervals(sample, symbols, CLASS_SYMBOL[SYMBOL_CLASS[target]], 0, n_samples, fs)


def beat_prompt(times_s: Sequence[float], token: str, labels: Sequence[str] | None = None) -> str:
    """The text that stands for an ECG in beat mode: `{t:.1f}s {token}` per beat (seconds from the ECG's start,
    the answers' own format), `token` being the slot that receives the beat's embedding (the processor's ECG
    pad token); with `labels` (one of `BEAT_CLASSES` per beat) `{t:.1f}s {label} {token}`. Digits tokenize one
    by one in SmolLM2/Llama, so a beat costs about 6 text tokens + 1 slot (+ 1 with a label)."""
    if not len(times_s):
        return "no beats detected"
    if labels is None:
        return " ".join(f"{t:.1f}s {token}" for t in times_s)
    if len(labels) != len(times_s):
        raise ValueError(f"{len(times_s)} beat times but {len(labels)} labels")
    return " ".join(f"{t:.1f}s {lab} {token}" for t, lab in zip(times_s, labels, strict=True))


@torch.no_grad()
def beat_tokens(encoder: BeatEncoder, signal: np.ndarray, fs: float, leads: Sequence[str]
                ) -> tuple[np.ndarray, Tensor]:
    """Beat times (s from the signal start) and their embeddings [n_beats, dim] for one ECG window."""
    beats = extract_beats(signal, fs, leads, norm=encoder.cfg.norm, context=encoder.cfg.context)
    encoder.eval()
    emb = encoder(torch.from_numpy(beats.windows), torch.from_numpy(beats.rr)) if len(beats) else \
        torch.zeros(0, encoder.dim)
    return beats.times_s, emb
