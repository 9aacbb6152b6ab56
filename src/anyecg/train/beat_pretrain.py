"""Supervised pretraining of the `BeatEncoder` on MIT-BIH Arrhythmia DS1, evaluated on DS2 (inter-patient).

Each record's beats are detected (`detect_beats`), matched to the annotated beats within 150 ms (label = the
annotation's class; an unmatched detection is Q), and turned into windows + RR features. Training: AdamW with a
cosine schedule, class-balanced sampling (weight ∝ count^-`balance`), and augmentation (amplitude per lead,
Gaussian noise, baseline offset + ramp, ±30 ms jitter, RR noise, occasional loss of the second lead).

    nice -n 10 python -m anyecg.train.beat_pretrain --data ../shared/data/mitdb \
        --out src/anyecg/weights/beat_encoder.safetensors
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import shlex
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch import Tensor, nn

from anyecg.atomic import write_atomic
from anyecg.data.sources.cinc import CPSC2018
from anyecg.data.sources.holter import list_records
from anyecg.data.sources.mitdb import DS1, DS2
from anyecg.errors import AnyECGError
from anyecg.io import read_record
from anyecg.model.beats import BeatEncoder, BeatEncoderConfig, save_beat_encoder
from anyecg.signal.beats import (
    BEAT_CLASSES,
    POST_S,
    PRE_S,
    WINDOW_FS,
    bandpass,
    beat_leads,
    beat_windows,
    class_of,
    detect_beats,
    match_beats,
    normalise_windows,
    rr_features,
    with_context,
)
from anyecg.signal.intervals import BEAT_SYMBOLS
from anyecg.vocabulary import dx_names

log = logging.getLogger("anyecg.beat_pretrain")
JITTER = 3  # samples at WINDOW_FS on each side (±30 ms)
MATCH_S = 0.15
_NO_FIXED_SPLIT = SimpleNamespace(fixed_split={})
# Diagnoses under which a record's beats are not all of one class.
_MIXED_BEATS = re.compile(r"premature|ectopic|escape|bigeminy|trigeminy|ventricular tachy|atrial tachy|pacing|"
                          r"incomplete|intraventricular|wolff")


@dataclass
class BeatSet:
    """Beats of several records: windows [n, 2, W + 2·JITTER], rr [n, 6], labels [n], record index [n]."""

    windows: np.ndarray
    rr: np.ndarray
    labels: np.ndarray
    record: np.ndarray


def record_beats(path: Path, cls: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Un-normalised windows (with jitter margin), RR features and class labels of one record's detected beats:
    the matched annotation's class, or `cls` for every beat of a record labelled only at record level."""
    rec = read_record(path, annotations=cls is None)
    x = beat_leads(rec.signal, rec.leads)
    det = detect_beats(x[0], rec.fs)
    if cls is None:
        ann = rec.beats
        keep = [i for i, s in enumerate(ann.symbol) if s in BEAT_SYMBOLS]
        ref, syms = np.asarray(ann.sample)[keep], [ann.symbol[i] for i in keep]
        match = match_beats(det, ref, int(MATCH_S * rec.fs))
        labels = np.array([class_of(syms[m]) if m >= 0 else BEAT_CLASSES.index("Q") for m in match],
                          dtype=np.int64)
    else:
        labels = np.full(len(det), BEAT_CLASSES.index(cls), dtype=np.int64)
    margin = JITTER / WINDOW_FS
    win = beat_windows(bandpass(x, rec.fs), rec.fs, det, norm="none", pre_s=PRE_S + margin, post_s=POST_S + margin,
                       filtered=True)
    return win, rr_features(det, rec.fs), labels


def record_class(diagnoses: list[str]) -> str | None:
    """The class of every beat of a record labelled only at record level ('#Dx'): L or R for a bundle branch
    block, N for a record without ectopic or paced beats; None when the beats cannot all share one class
    (ectopic beats, pacing, both blocks, incomplete or unspecified blocks, unknown codes)."""
    found = [dx_names(code) for code in diagnoses]
    if not found or None in found:
        return None
    names = [n.lower() for names in found for n in names]
    if any(_MIXED_BEATS.search(n) or n.startswith("bundle") for n in names):
        return None
    left = any("left bundle branch block" in n for n in names)
    right = any("right bundle branch block" in n for n in names)
    if left and right:
        return None
    return "L" if left else "R" if right else "N"


def weak_records(root: Path) -> list[tuple[str, str]]:
    """(record, class) of the training records of a CPSC 2018 / CinC directory that `record_class` can label;
    the builder's test and valid records (CPSC2018 A0101-A0150 among them) are left out."""
    out = []
    for key in list_records(root):
        if CPSC2018.split_of(key, _NO_FIXED_SPLIT)[0] != "train":
            continue
        try:
            head = read_record(root / key, end_s=0.1, annotations=False)
        except AnyECGError as err:
            log.warning("%s: %s (left out)", root / key, err.reason)
            continue
        if cls := record_class(list(head.diagnoses)):
            out.append((key, cls))
    return out


def load_set(root: Path, records: tuple[str, ...], norm: str, cache: Path | None, context: bool = False,
             weak: dict[str, str] | None = None) -> BeatSet:
    """All beats of `records`, windows normalised with `norm` (+ `with_context` channels); un-normalised beats
    cached as .npz per record. Records named in `weak` take that class for every beat (no annotations)."""
    parts = []
    for i, name in enumerate(records):
        file = cache / f"{root.name}-{name}.npz" if cache else None
        if file and file.exists():
            z = np.load(file)
            win, rr, lab = z["windows"], z["rr"], z["labels"]
        else:
            win, rr, lab = record_beats(root / name, (weak or {}).get(name))
            if file:
                file.parent.mkdir(parents=True, exist_ok=True)
                np.savez(file, windows=win, rr=rr, labels=lab)
        win = normalise_windows(win, norm)
        parts.append((with_context(win) if context else win, rr, lab, np.full(len(lab), i)))
    return BeatSet(*(np.concatenate(p) for p in zip(*parts, strict=True)))


def merge_sets(*sets: BeatSet) -> BeatSet:
    """One set of several (record indices kept distinct)."""
    offset, parts = 0, []
    for s in sets:
        parts.append(BeatSet(s.windows, s.rr, s.labels, s.record + offset))
        offset += int(s.record.max()) + 1 if len(s.record) else 0
    return BeatSet(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("windows", "rr", "labels", "record")))


def augment(win: Tensor, rr: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Random crop (jitter), amplitude per lead, noise, baseline offset + ramp, second-lead dropout, RR noise."""
    n, leads, width = win.shape
    size = width - 2 * JITTER
    shift = torch.randint(0, 2 * JITTER + 1, (n,), generator=gen)
    idx = shift[:, None] + torch.arange(size)[None, :]
    x = torch.gather(win, 2, idx[:, None, :].expand(n, leads, size))
    x = x * torch.empty(n, leads, 1).uniform_(0.6, 1.5, generator=gen)
    x = x + torch.randn(x.shape, generator=gen) * torch.empty(n, 1, 1).uniform_(0.0, 0.08, generator=gen)
    ramp = torch.linspace(-1, 1, size)[None, None, :]
    x = x + torch.empty(n, leads, 1).uniform_(-0.2, 0.2, generator=gen) \
        + ramp * torch.empty(n, leads, 1).uniform_(-0.2, 0.2, generator=gen)
    drop = torch.rand(n, generator=gen) < 0.05
    x[drop, 1::2] = 0.0  # lead 2 (and its context channel)
    rr = rr * torch.empty(n, 1).uniform_(0.95, 1.05, generator=gen)
    return x, rr


def center(win: np.ndarray) -> Tensor:
    """The un-jittered window (drop the margin)."""
    return torch.from_numpy(np.ascontiguousarray(win[:, :, JITTER: win.shape[2] - JITTER]))


@torch.no_grad()
def predict(model: BeatEncoder, data: BeatSet, batch: int = 4096) -> np.ndarray:
    model.eval()
    out = [model.logits(center(data.windows[i:i + batch]), torch.from_numpy(data.rr[i:i + batch])).argmax(-1)
           for i in range(0, len(data.labels), batch)]
    return torch.cat(out).numpy()


def class_report(labels: np.ndarray, pred: np.ndarray) -> dict:
    """Confusion matrix (rows true, columns predicted) and per-class sensitivity / PPV."""
    k = len(BEAT_CLASSES)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (labels, pred), 1)
    per = {}
    for i, name in enumerate(BEAT_CLASSES):
        n_true, n_pred = cm[i].sum(), cm[:, i].sum()
        per[name] = {"n": int(n_true), "sens": float(cm[i, i] / n_true) if n_true else math.nan,
                     "ppv": float(cm[i, i] / n_pred) if n_pred else math.nan}
    return {"confusion": cm.tolist(), "classes": per, "accuracy": float(np.trace(cm) / max(1, cm.sum()))}


def format_report(report: dict) -> str:
    lines = ["class      n   sens    PPV"]
    for name, r in report["classes"].items():
        lines.append(f"{name:>5} {r['n']:6d}  {r['sens']:.3f}  {r['ppv']:.3f}")
    lines.append("confusion (rows true, cols pred " + " ".join(BEAT_CLASSES) + "):")
    lines += ["  " + name + " " + " ".join(f"{v:6d}" for v in row)
              for name, row in zip(BEAT_CLASSES, report["confusion"], strict=True)]
    return "\n".join(lines)


def sampling_weights(data: BeatSet, n_classes: int, balance: float, record_balance: float) -> Tensor:
    """Per-beat sampling weight: class share ∝ count^(1 - `balance`); within a class, each record's share ∝ its
    beat count^(1 - `record_balance`) (1.0: every patient weighs the same, whatever its number of beats)."""
    counts = np.maximum(np.bincount(data.labels, minlength=n_classes).astype(np.float64), 1.0)
    pair = data.record.astype(np.int64) * n_classes + data.labels
    _, inverse, per_pair = np.unique(pair, return_inverse=True, return_counts=True)
    w = per_pair[inverse].astype(np.float64) ** -record_balance
    class_total = np.bincount(data.labels, weights=w, minlength=n_classes)
    w = w / class_total[data.labels] * counts[data.labels] ** (1.0 - balance)
    return torch.from_numpy(w)


def train(data: BeatSet, cfg: BeatEncoderConfig, *, epochs: int, batch: int, lr: float, balance: float,
          seed: int, steps_per_epoch: int | None = None, record_balance: float = 0.0) -> BeatEncoder:
    """Train a fresh `BeatEncoder` on `data` (cross-entropy, class- and record-balanced sampling, augmentation)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = BeatEncoder(cfg)
    weights = sampling_weights(data, cfg.n_classes, balance, record_balance)
    steps = steps_per_epoch or math.ceil(len(data.labels) / batch)
    total = epochs * steps
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    win_all, rr_all, lab_all = (torch.from_numpy(a) for a in (data.windows, data.rr, data.labels))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    for epoch in range(epochs):
        model.train()
        t0, running = time.time(), 0.0
        for _ in range(steps):
            idx = torch.multinomial(weights, batch, replacement=True, generator=gen)
            x, rr = augment(win_all[idx], rr_all[idx], gen)
            loss = loss_fn(model.logits(x, rr), lab_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            running += loss.item()
        log.info("epoch %d/%d loss %.4f (%.1f s)", epoch + 1, epochs, running / steps, time.time() - t0)
    return model.eval()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="MIT-BIH Arrhythmia directory (WFDB records)")
    p.add_argument("--out", type=Path, required=True, help="safetensors file to write")
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "anyecg" / "beats")
    p.add_argument("--norm", choices=("local", "none"), default="local")
    p.add_argument("--context", action="store_true", help="add the with_context channels")
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--steps-per-epoch", type=int, default=200)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--balance", type=float, default=0.75, help="sampling weight ∝ class count^-balance")
    p.add_argument("--record-balance", type=float, default=0.0,
                   help="within a class, record share ∝ its beat count^(1 - this); 1: patients weigh the same")
    p.add_argument("--weak", type=Path, action="append", default=[],
                   help="CPSC 2018 / CinC directory: records with record-level labels that fix every beat's class "
                        "(LBBB → L, RBBB → R, no ectopy → N); training records only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    t0 = time.time()
    ds1 = load_set(args.data, tuple(sorted(DS1)), args.norm, args.cache, args.context)
    for root in args.weak:
        labelled = dict(weak_records(root))
        log.info("%s: %d records with one class for every beat %s", root, len(labelled),
                 dict(Counter(labelled.values())))
        ds1 = merge_sets(ds1, load_set(root, tuple(labelled), args.norm, args.cache, args.context, labelled))
    ds2 = load_set(args.data, tuple(sorted(DS2)), args.norm, args.cache, args.context)
    log.info("DS1 %d beats, DS2 %d beats (%.0f s); DS1 class counts %s", len(ds1.labels), len(ds2.labels),
             time.time() - t0, dict(zip(BEAT_CLASSES, np.bincount(ds1.labels, minlength=7).tolist(), strict=True)))
    cfg = BeatEncoderConfig(dim=args.dim, width=args.width, norm=args.norm, context=args.context)
    model = train(ds1, cfg, epochs=args.epochs, batch=args.batch, lr=args.lr, balance=args.balance,
                  seed=args.seed, steps_per_epoch=args.steps_per_epoch, record_balance=args.record_balance)
    report = class_report(ds2.labels, predict(model, ds2))
    log.info("DS2 (held-out patients), detected beats matched to annotations:\n%s", format_report(report))
    command = "python -m anyecg.train.beat_pretrain " + shlex.join(sys.argv[1:] if argv is None else argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_beat_encoder(model, args.out, {"command": command, "ds2": report})
    write_atomic(args.out.with_suffix(".json"), json.dumps({"command": command, "ds2": report}, indent=1))
    log.info("wrote %s (%.0f s in all)", args.out, time.time() - t0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
