"""Supervised baseline: a 1D U-Net that segments abnormal-beat intervals per class (after Moskalenko et al. 2020).

Input: the model's own input (`ECGInput`: 100 Hz, 12 lead slots in [-1, 1], missing leads 0), any length
(padded to a multiple of 8). Output: per 100 Hz sample and class k, the logit of "inside an interval of
class k", where the intervals are the paper's label rule (`anyecg.signal.intervals.beat_intervals`). Decoding:
sigmoid > threshold, runs shorter than `MIN_RUN_S` dropped, formatted with `format_answer`, so the baseline is
scored by exactly the code that scores the chat model. Trained on MIT-BIH DS1, evaluated on DS2.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from anyecg.atomic import atomic_path
from anyecg.errors import ModelError
from anyecg.eval.samples import EvalSample
from anyecg.eval.windows import DS1, MITDB_TYPES
from anyecg.model.state import check_keys
from anyecg.signal.intervals import beat_intervals, describe, format_answer
from anyecg.timebase import MODEL_FS, to_samples, to_seconds

log = logging.getLogger(__name__)
WEIGHTS = Path(__file__).parent / "weights" / "unet_mitdb_ds1.safetensors"
MIN_RUN_S = 0.3


@dataclass(frozen=True)
class UNetConfig:
    classes: tuple[str, ...] = MITDB_TYPES
    in_leads: int = 12
    width: int = 8  # channels of the first level; doubled per level (CPU-sized)
    depth: int = 3  # poolings by 2 (input length padded to a multiple of 2**depth)
    kernel: int = 7


def _block(c_in: int, c_out: int, k: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv1d(c_in, c_out, k, padding=k // 2), nn.BatchNorm1d(c_out), nn.ReLU(),
                         nn.Conv1d(c_out, c_out, k, padding=k // 2), nn.BatchNorm1d(c_out), nn.ReLU())


class UNet1D(nn.Module):
    """[B, 12, T] → [B, n_classes, T] logits; T any length (padded internally)."""

    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.cfg = cfg
        widths = [cfg.width * 2**i for i in range(cfg.depth + 1)]
        self.down = nn.ModuleList([_block(cfg.in_leads, widths[0], cfg.kernel)] +
                                  [_block(widths[i], widths[i + 1], cfg.kernel) for i in range(cfg.depth)])
        self.up = nn.ModuleList([nn.ConvTranspose1d(widths[i + 1], widths[i], 2, stride=2)
                                 for i in reversed(range(cfg.depth))])
        self.dec = nn.ModuleList([_block(2 * widths[i], widths[i], cfg.kernel) for i in reversed(range(cfg.depth))])
        self.head = nn.Conv1d(widths[0], len(cfg.classes), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[-1]
        mult = 2**self.cfg.depth
        x = nn.functional.pad(x, (0, (-t) % mult))  # (B, 12, T') with T' % 8 == 0
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else nn.functional.max_pool1d(x, 2))
            skips.append(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips[:-1]), strict=True):
            x = dec(torch.cat([up(x), skip], dim=1))
        return self.head(x)[..., :t]  # (B, K, T)


# ---------------------------------------------------------------------------------------- decoding
def decode(prob: np.ndarray, threshold: float = 0.5) -> list[tuple[float, float]]:
    """Runs of `prob` [T] above `threshold` (at least MIN_RUN_S long) as (start_s, end_s) intervals."""
    above = np.concatenate([[False], prob > threshold, [False]])
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    runs = [(to_seconds(a, MODEL_FS), to_seconds(b, MODEL_FS)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return [(a, b) for a, b in runs if b - a >= MIN_RUN_S]


def stack(signals: Sequence[np.ndarray]) -> torch.Tensor:
    """[12, T_i] arrays → zero-padded float tensor [B, 12, max T]."""
    t = max(s.shape[1] for s in signals)
    out = np.zeros((len(signals), signals[0].shape[0], t), dtype=np.float32)
    for i, s in enumerate(signals):
        out[i, :, : s.shape[1]] = s
    return torch.from_numpy(out)


class UNetPredictor:
    """Answers localization samples with the U-Net: one forward pass per batch."""

    def __init__(self, weights: str | Path = WEIGHTS, threshold: float = 0.5):
        self.model, self.meta = load_unet(weights)
        self.threshold = threshold
        self.name = "unet"
        self._warned: set[str] = set()

    def answer(self, prob: np.ndarray, symbol: str) -> str:
        """Decoded answer for one sample: `prob` [n_classes, T]."""
        classes = self.model.cfg.classes
        if symbol not in classes:
            if symbol not in self._warned:
                log.warning("U-Net has no class %r (has %s): answering No ... Found", symbol, ", ".join(classes))
                self._warned.add(symbol)
            return format_answer([], describe(symbol))
        return format_answer(decode(prob[classes.index(symbol)], self.threshold), describe(symbol))

    def predict(self, samples: Sequence[EvalSample],
                mask_leads: Sequence[Sequence[str]] | None = None) -> list[str]:
        masks = mask_leads or [()] * len(samples)
        inputs = [s.ecgs[0].load(m) for s, m in zip(samples, masks, strict=True)]
        with torch.inference_mode():
            prob = torch.sigmoid(self.model(stack([x.signal for x in inputs]))).numpy()
        return [self.answer(prob[i, :, : x.n_samples], s.abnormal_type)
                for i, (s, x) in enumerate(zip(samples, inputs, strict=True))]


# ---------------------------------------------------------------------------------------- weights
def save_unet(model: UNet1D, path: Path, extra: dict) -> None:
    from safetensors.torch import save_file

    meta = {"config": json.dumps(asdict(model.cfg)), **{k: str(v) for k, v in extra.items()}}
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp), metadata=meta)


def load_unet(path: str | Path = WEIGHTS) -> tuple[UNet1D, dict]:
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise ModelError("U-Net weights not found (train them: anyecg baseline train)", path)
    with safe_open(str(path), "pt") as fh:
        meta = fh.metadata() or {}
    cfg_dict = json.loads(meta["config"])
    cfg = UNetConfig(**{**cfg_dict, "classes": tuple(cfg_dict["classes"])})
    model = UNet1D(cfg)
    state = load_file(str(path))
    check_keys(model.state_dict(), state, path)
    model.load_state_dict(state)
    return model.eval(), meta


# ---------------------------------------------------------------------------------------- training
def training_windows(record_path: Path, classes: Sequence[str], n_random: int, n_targeted: int,
                     rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """10 s windows of one record: inputs [n, 12, 1000] and per-sample class masks [n, K, 1000]."""
    from anyecg.io import read_record
    from anyecg.signal.preprocess import preprocess

    record = read_record(record_path)
    fs, total = record.fs, record.signal.shape[1]
    length = int(10 * fs)
    sample, symbol = np.asarray(record.beats.sample), list(record.beats.symbol)
    targets = sample[[i for i, s in enumerate(symbol) if s in classes]]
    starts = [rng.randrange(total - length) for _ in range(n_random)]
    for _ in range(n_targeted if len(targets) else 0):
        t = int(rng.choice(targets))
        starts.append(min(max(0, t - rng.randrange(length)), total - length))
    xs, ys = [], []
    for start in starts:
        x = preprocess(record, start_s=to_seconds(start, fs), end_s=to_seconds(start + length, fs))
        y = np.zeros((len(classes), x.n_samples), dtype=np.float32)
        for k, c in enumerate(classes):
            for a, b in beat_intervals(sample, symbol, c, start, start + length, fs):
                y[k, to_samples(a, MODEL_FS): to_samples(b, MODEL_FS)] = 1.0
        xs.append(x.signal)
        ys.append(y)
    return np.stack(xs), np.stack(ys)


def train_unet(mitdb_dir: str | Path, out: str | Path = WEIGHTS, *, records: Sequence[str] = DS1,
               minutes: float = 8.0, n_random: int = 80, n_targeted: int = 80, batch_size: int = 32,
               lr: float = 3e-3, seed: int = 0, command: str = "") -> dict:
    """Train on `records` for about `minutes` of wall time; save safetensors to `out`. Returns the log."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    cfg = UNetConfig()
    t0 = time.monotonic()
    parts = [training_windows(Path(mitdb_dir) / r, cfg.classes, n_random, n_targeted, rng) for r in records]
    x = torch.from_numpy(np.concatenate([p[0] for p in parts]))
    y = torch.from_numpy(np.concatenate([p[1] for p in parts]))
    log.info("training windows: %d from %d records (%.0f s); positive share per class %s", len(x), len(records),
             time.monotonic() - t0, dict(zip(cfg.classes, y.mean(dim=(0, 2)).round(decimals=4).tolist(),
                                             strict=True)))
    pos = y.mean(dim=(0, 2)).clamp_min(1e-3)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=((1 - pos) / pos).clamp(max=20.0)[:, None])
    model = UNet1D(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    history, step, epoch = [], 0, 0
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        model.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 50 == 0:
                history.append({"step": step, "epoch": epoch, "loss": round(loss.item(), 4)})
                log.info("step %d epoch %d loss %.4f", step, epoch, loss.item())
            if time.monotonic() >= deadline:
                break
        epoch += 1
    save_unet(model.eval(), Path(out), {"records": ",".join(records), "steps": step, "epochs": epoch,
                                        "windows": len(x), "command": command})
    return {"steps": step, "epochs": epoch, "windows": len(x), "history": history,
            "seconds": round(time.monotonic() - t0, 1)}
