"""Beat-synchronous perception on MIT-BIH Arrhythmia: detector, beat classifier, and the copy ceiling.

    nice -n 10 python benchmarks/bench_beats.py --mitdb ../shared/data/mitdb [--weights W] [--n-pos 20 --n-neg 10]

1. Detector (`detect_beats` on lead II; `detect_two_leads` on lead II alone and on both) against the .atr beat
   annotations of all 48 records:
   sensitivity, PPV, timing error (150 ms match window).
2. Beat classifier (`BeatEncoder` weights) on DS2 (held-out patients): per-class sensitivity / PPV, confusion.
3. Copy ceiling: DS2 windows of 10 s and of 10-60 s; in each window beats are detected on the window alone,
   classified, and the paper's interval rule runs on the predicted classes (neighbours = detected beats). That is
   the answer of an LLM that copies perfectly. Per asked type (V, A, L, R): positive windows (a beat of the type
   at a random offset) and negative windows (none), `n_pos`/`n_neg` per record and type; plus windows at
   uniformly random offsets (natural prevalence). Scored with `answer_iou` (official protocol) and pos/neg
   accuracy, beside the trivial answers (always `No ... Found`, the whole window) and an oracle that knows the
   true class of each detected beat (detection error alone).
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from anyecg.data.sources.mitdb import DS1, DS2
from anyecg.io import ECGRecord, read_record
from anyecg.model.beats import input_beats, load_beat_encoder, predicted_intervals
from anyecg.signal.beats import (
    BEAT_CLASSES,
    beat_leads,
    class_of,
    detect_beats,
    detect_two_leads,
    extract_beats,
    match_beats,
)
from anyecg.signal.intervals import BEAT_SYMBOLS, answer_iou, beat_intervals, describe, format_answer
from anyecg.signal.preprocess import preprocess
from anyecg.timebase import MODEL_FS
from anyecg.train.beat_pretrain import class_report, format_report, load_set, predict

TYPES = ("V", "A", "L", "R")
WHO = ("model", "oracle", "always_no", "whole_window")
MATCH_S = 0.15


@dataclass
class Rec:
    name: str
    signal: np.ndarray
    fs: float
    leads: tuple[str, ...]
    sample: np.ndarray  # beat annotations only
    symbol: list[str]
    record: ECGRecord


def load(root: Path, name: str) -> Rec:
    r = read_record(root / name)
    keep = [i for i, s in enumerate(r.beats.symbol) if s in BEAT_SYMBOLS]
    return Rec(name, r.signal, r.fs, r.leads, np.asarray(r.beats.sample)[keep], [r.beats.symbol[i] for i in keep], r)


def bench_detector(root: Path) -> None:
    names = sorted(p.stem for p in root.glob("*.hea"))
    detectors = {"lead II alone (detect_beats)": lambda x, fs: detect_beats(x[0], fs),
                 "lead II alone with its own rescue (detect_two_leads on one lead: a one-lead record's read)":
                     lambda x, fs: detect_two_leads(x[:1], fs),
                 "two leads (detect_two_leads, what the reads of 2-lead records use)": detect_two_leads}
    tally = {label: {"tp": 0, "ref": 0, "det": 0, "s": 0.0, "errors": [], "rows": []} for label in detectors}
    for name in names:  # one record in memory at a time
        rec = load(root, name)
        x = beat_leads(rec.signal, rec.leads)
        for label, detect in detectors.items():
            t, t0 = tally[label], time.perf_counter()
            det = detect(x, rec.fs)
            t["s"] += time.perf_counter() - t0
            match = match_beats(det, rec.sample, int(MATCH_S * rec.fs))
            ok = match >= 0
            t["tp"], t["ref"], t["det"] = t["tp"] + ok.sum(), t["ref"] + len(rec.sample), t["det"] + len(det)
            t["errors"].append((det[ok] - rec.sample[match[ok]]) / rec.fs)
            t["rows"].append((ok.sum() / len(rec.sample), ok.sum() / max(1, len(det)), name))
    for label, t in tally.items():
        err = np.concatenate(t["errors"]) * 1000
        print(f"## Detector: {label}, on {len(names)} MIT-BIH records ({t['s']:.0f} s detecting)")
        print(f"sensitivity {t['tp'] / t['ref']:.4f}  PPV {t['tp'] / t['det']:.4f}  ({t['ref']} annotated, "
              f"{t['det']} detected); timing error median {np.median(err):+.1f} ms, median |err| "
              f"{np.median(np.abs(err)):.1f} ms, 95th pct |err| {np.percentile(np.abs(err), 95):.1f} ms")
        print("worst records (sens, PPV): " + ", ".join(f"{n} {s:.3f}/{p:.3f}" for s, p, n in sorted(t["rows"])[:6]))


def window_answers(rec: Rec, start: int, length: int, types: tuple[str, ...], model, via_input: bool
                   ) -> dict[str, tuple[str, ...]]:
    """Per asked type, for one window: truth and the answers of `WHO` (ceiling with the model's classes, with the
    oracle's classes, always `No ... Found`, the whole window).

    Beats are detected on the window alone: at the native rate, or (`via_input`) on the preprocessed 100 Hz
    `ECGInput` the model's processor holds. The oracle gives each detected beat its matched annotation's class."""
    if via_input:
        ecg = preprocess(rec.record, start_s=start / rec.fs, end_s=(start + length) / rec.fs)
        beats = input_beats(ecg, norm=model.cfg.norm, context=model.cfg.context)
        fs, n = float(MODEL_FS), ecg.n_samples
    else:
        beats = extract_beats(rec.signal[:, start:start + length], rec.fs, rec.leads, norm=model.cfg.norm,
                              context=model.cfg.context)
        fs, n = rec.fs, length
    inside = (rec.sample >= start) & (rec.sample < start + length)
    syms = [s for s, i in zip(rec.symbol, inside, strict=True) if i]
    ref = np.round((rec.sample[inside] - start) * fs / rec.fs).astype(np.int64)
    match = match_beats(beats.sample, ref, int(MATCH_S * fs))
    oracle = [class_of(syms[m]) if m >= 0 else BEAT_CLASSES.index("Q") for m in match]
    classes = model.predict(beats).tolist()
    out = {}
    for k in types:
        name = describe(k)
        truth = format_answer(beat_intervals(rec.sample, rec.symbol, k, start, start + length, rec.fs), name)
        out[k] = (truth, *(format_answer(predicted_intervals(beats.sample, c, k, n, fs), name)
                           for c in (classes, oracle)),
                  format_answer([], name), format_answer([(0.0, length / rec.fs)], name))
    return out


def sample_windows(rec: Rec, k: str, long: bool, n_pos: int, n_neg: int, rng: random.Random):
    """(kind, start, length) windows: positives around a random beat of type k, negatives without one."""
    n_total = rec.signal.shape[1]
    where = rec.sample[[i for i, s in enumerate(rec.symbol) if s == k]]

    def length() -> int:
        return round((round(rng.uniform(10.0, 60.0), 1) if long else 10.0) * rec.fs)

    for _ in range(n_pos if len(where) else 0):
        n = length()
        t = int(rng.choice(where))
        yield "pos", min(max(0, t - rng.randrange(n)), n_total - n), n
    for _ in range(n_neg):
        for _try in range(100):
            n = length()
            start = rng.randrange(n_total - n)
            if not ((where >= start) & (where < start + n)).any():
                yield "neg", start, n
                break


def bench_ceiling(recs: list[Rec], model, long: bool, n_pos: int, n_neg: int, n_nat: int, seed: int,
                  via_input: bool) -> None:
    t0 = time.perf_counter()
    scores: dict[tuple[str, str, str], list[float]] = {}  # (who, type, kind) -> official IoU per window
    acc: dict[tuple[str, str, str], list[bool]] = {}
    for rec in recs:
        rng = random.Random(f"{seed}-{rec.name}-{long}")
        jobs = [(kind, (k,), s, n) for k in TYPES for kind, s, n in sample_windows(rec, k, long, n_pos, n_neg, rng)]
        for _ in range(n_nat):
            n = round((round(rng.uniform(10.0, 60.0), 1) if long else 10.0) * rec.fs)
            jobs.append(("nat", TYPES, rng.randrange(rec.signal.shape[1] - n), n))
        for kind, types, s, n in jobs:
            for k, (truth, *preds) in window_answers(rec, s, n, types, model, via_input).items():
                for who, pred in zip(WHO, preds, strict=True):
                    scores.setdefault((who, k, kind), []).append(answer_iou(truth, pred))
                    acc.setdefault((who, k, kind), []).append(truth.startswith("No") == pred.startswith("No"))
                if kind == "nat":
                    scores.setdefault(("nat-pos", k, kind), []).append(float(not truth.startswith("No")))
    title = ("10-60 s" if long else "10 s") + (", beats from the 100 Hz ECGInput" if via_input else "")
    print(f"\n## Copy ceiling, DS2 {title} windows ({time.perf_counter() - t0:.0f} s)")
    print("who          type  n_pos n_neg  IoU_pos  acc_pos  acc_neg  bal_acc  IoU_bal  IoU_nat (prevalence)")
    for who in WHO:
        macro = []
        for k in TYPES:
            pos, neg, nat = (scores[(who, k, kind)] for kind in ("pos", "neg", "nat"))
            ap, an = np.mean(acc[(who, k, "pos")]), np.mean(acc[(who, k, "neg")])
            row = [np.mean(pos), ap, an, (ap + an) / 2, (np.mean(pos) + np.mean(neg)) / 2, np.mean(nat)]
            macro.append(row)
            print(f"{who:12s} {k:5s} {len(pos):5d} {len(neg):5d} " + "  ".join(f"{v:7.3f}" for v in row)
                  + f" ({np.mean(scores[('nat-pos', k, 'nat')]):.2f})")
        print(f"{who:12s} {'macro':5s} {'':5s} {'':5s} " + "  ".join(f"{v:7.3f}" for v in np.mean(macro, axis=0)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mitdb", type=Path, default=Path(__file__).parents[2] / "shared" / "data" / "mitdb")
    p.add_argument("--weights", type=Path, default=None, help="BeatEncoder safetensors (default: committed)")
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "anyecg" / "beats")
    p.add_argument("--n-pos", type=int, default=20)
    p.add_argument("--n-neg", type=int, default=10)
    p.add_argument("--n-nat", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-detector", action="store_true")
    p.add_argument("--via-input", action="store_true", help="detect beats on the preprocessed 100 Hz ECGInput")
    args = p.parse_args()
    torch.set_num_threads(1)  # tiny batches: extra threads only spin on a shared machine
    if not args.skip_detector:
        bench_detector(args.mitdb)
    model = load_beat_encoder(args.weights)
    ds2 = load_set(args.mitdb, tuple(sorted(DS2)), model.cfg.norm, args.cache, model.cfg.context)
    print(f"\n## Beat classifier on DS2 (held-out patients; DS1 = {len(DS1)} training records), "
          f"{len(ds2.labels)} detected beats, label = matched annotation (unmatched = Q)")
    print(format_report(class_report(ds2.labels, predict(model, ds2))))
    recs = [load(args.mitdb, name) for name in sorted(DS2)]
    for long in (False, True):
        bench_ceiling(recs, model, long, args.n_pos, args.n_neg, args.n_nat, args.seed, args.via_input)


if __name__ == "__main__":
    main()
