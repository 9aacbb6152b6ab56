"""Train the findings beat classifier (`anyecg.findings.beat_classes`) on MIT-BIH Arrhythmia DS1 only.

Each DS1 record's beats are detected (`detect_two_leads` on the two beat leads), matched to the annotations
(`annotated_classes`; L and R count as N: bundle branch block is read per record, not per beat), and turned
into `beat_features` twice: with both leads and with the second lead zeroed (one-lead recordings, their beats
detected as such). `MEMBERS` 2-layer MLPs (64, 32) are trained with class weights ∝ count^-`balance` and different
seeds, and saved as one MLP that averages their logits (`ensemble`; safetensors, numpy at inference).

    nice -n 10 python -m anyecg.train.findings_beats --mitdb ../shared/data/mitdb \
        --out src/anyecg/weights/findings/beat_classes.safetensors
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from anyecg.data.sources.mitdb import DS1
from anyecg.findings.beat_classes import CLASSES, WEIGHTS, BeatClassifier, annotated_classes, beat_features
from anyecg.io import read_record
from anyecg.signal.beats import beat_leads, detect_two_leads

log = logging.getLogger("anyecg.findings_beats")
MEMBERS = 5  # seeds averaged: one model's held-out V sensitivity moved ±3 points between retrains (docs/rhythm.md)
_TRAIN_CLASS = {"N": "N", "L": "N", "R": "N", "V": "V", "S": "S", "F": "F", "Q": "Q"}


def record_set(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Features [n1 + n2, N_FEATURES] and class indices of a record's beats: read on both leads, then on the
    first lead alone (the second zeroed, its beats detected as a one-lead recording's are)."""
    rec = read_record(path)
    x = beat_leads(rec.signal, rec.leads)
    one = x.copy()
    one[1] = 0.0
    feats, labels = [], []
    for signal in (x, one):
        det = detect_two_leads(signal, rec.fs)
        feats.append(beat_features(signal, rec.fs, det))
        labels.append([CLASSES.index(_TRAIN_CLASS[c])
                       for c in annotated_classes(det, rec.beats.sample, rec.beats.symbol, rec.fs)])
    return np.concatenate(feats), np.concatenate(labels).astype(np.int64)


def train(feats: np.ndarray, labels: np.ndarray, *, epochs: int = 20, balance: float = 0.5, seed: int = 0,
          hidden: tuple[int, int] = (64, 32)) -> BeatClassifier:
    torch.manual_seed(seed)
    torch.set_num_threads(1)  # a small MLP: one thread is fastest on a shared machine
    mean, std = feats.mean(0), feats.std(0) + 1e-3
    x = torch.from_numpy((feats - mean) / std)
    y = torch.from_numpy(labels)
    counts = np.bincount(labels, minlength=len(CLASSES)).astype(np.float64)
    weight = torch.tensor(np.where(counts > 0, np.maximum(counts, 1.0) ** -balance, 0.0), dtype=torch.float32)
    weight = weight / (weight * torch.from_numpy(counts).float()).sum() * len(labels)
    net = nn.Sequential(nn.Linear(x.shape[1], hidden[0]), nn.ReLU(), nn.Dropout(0.1),
                        nn.Linear(hidden[0], hidden[1]), nn.ReLU(), nn.Linear(hidden[1], len(CLASSES)))
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    batch = 1024
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * (len(y) // batch + 1))
    loss_fn = nn.CrossEntropyLoss(weight=weight, label_smoothing=0.05)
    net.train()
    for epoch in range(epochs):
        perm = torch.randperm(len(y))
        total = 0.0
        for i in range(0, len(y), batch):
            b = perm[i:i + batch]
            xb = x[b] + 0.05 * torch.randn_like(x[b])
            loss = loss_fn(net(xb), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(b)
        log.info("epoch %d loss %.4f", epoch + 1, total / len(y))
    linears = [m for m in net if isinstance(m, nn.Linear)]
    return BeatClassifier(mean.astype(np.float32), std.astype(np.float32),
                          tuple((m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()) for m in linears))


def ensemble(models: list[BeatClassifier]) -> BeatClassifier:
    """One classifier whose logits are the mean of `models`' (same standardisation, same depth): their hidden
    layers side by side, block-diagonal between them, the output layer averaging. Same file format and code path
    as a single model."""
    from scipy.linalg import block_diag

    k, depth = len(models), len(models[0].layers)
    layers = []
    for i in range(depth):
        ws, bs = [m.layers[i][0] for m in models], [m.layers[i][1] for m in models]
        if i == 0:
            w, b = np.concatenate(ws), np.concatenate(bs)
        elif i + 1 < depth:
            w, b = block_diag(*ws), np.concatenate(bs)
        else:
            w, b = np.concatenate(ws, axis=1) / k, np.mean(bs, axis=0)
        layers.append((w.astype(np.float32), b.astype(np.float32)))
    return BeatClassifier(models[0].mean, models[0].std, tuple(layers))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mitdb", type=Path, required=True, help="MIT-BIH Arrhythmia directory")
    p.add_argument("--out", type=Path, default=WEIGHTS)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--balance", type=float, default=0.5, help="class weight ∝ count^-balance")
    p.add_argument("--seed", type=int, default=0, help="the first member's seed (the others: seed + 1, ...)")
    p.add_argument("--members", type=int, default=MEMBERS, help="models trained with different seeds, averaged")
    p.add_argument("--cache", type=Path, help="features .npz: written on the first run, read on the next")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.perf_counter()
    if args.cache and args.cache.is_file():
        z = np.load(args.cache)
        feats, labels = z["feats"], z["labels"]
    else:
        parts = [record_set(args.mitdb / r) for r in sorted(DS1)]
        feats, labels = np.concatenate([f for f, _ in parts]), np.concatenate([y for _, y in parts])
        if args.cache:
            np.savez(args.cache, feats=feats, labels=labels)
    log.info("DS1: %d beat rows, classes %s", len(labels), dict(zip(CLASSES, np.bincount(labels).tolist(), strict=False)))
    model = ensemble([train(feats, labels, epochs=args.epochs, balance=args.balance, seed=args.seed + k)
                      for k in range(args.members)])
    from safetensors.numpy import save_file

    from anyecg.atomic import atomic_path

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp:
        save_file(model.tensors(), str(tmp))
    pred = model.logits(feats).argmax(1)
    log.info("DS1 training accuracy %.3f; wrote %s in %.0f s", (pred == labels).mean(), args.out,
             time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
