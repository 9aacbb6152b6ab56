"""A small localization test-window generator for MIT-BIH Arrhythmia records (until the data builder's own).

Per record and asked beat type present in it: `n_pos` windows containing a random beat of that type at a
random offset; per record: `n_neg` windows without the asked type (type drawn at random), as the paper's
test lists do; and `n_nat` windows at uniformly random offsets, each asked about every type (the natural
prevalence of a scan). Labels come from `anyecg.signal.intervals.beat_intervals` (the paper's rule). Windows are
10 s, or 10-60 s (uniform, 0.1 s steps) with `long=True`. Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from anyecg.data.schema import ECGRef, Sample, qa
from anyecg.data.sources import mitdb as mitdb_split
from anyecg.eval.samples import EvalSample, from_sample
from anyecg.io import read_record
from anyecg.signal.intervals import beat_intervals, describe, format_answer
from anyecg.targets import PAPER_BEAT_TYPES
from anyecg.timebase import to_samples, to_seconds

MITDB_TYPES = PAPER_BEAT_TYPES
# de Chazal et al. 2004 inter-patient split, in record order (one list, in the MIT-BIH source adapter).
DS1 = tuple(sorted(mitdb_split.DS1))
DS2 = tuple(sorted(mitdb_split.DS2))


def _window_len(rng: random.Random, long: bool) -> float:
    return round(rng.uniform(10.0, 60.0), 1) if long else 10.0


def record_windows(path: str | Path, *, types: Sequence[str] = MITDB_TYPES, long: bool = False, n_pos: int = 6,
                   n_neg: int = 2, n_nat: int = 0, seed: int = 0, dataset: str = "mitdb") -> list[Sample]:
    """Localization samples (split `test`) of one WFDB record with beat annotations."""
    record = read_record(path)
    fs, n_total = record.fs, record.signal.shape[1]
    beats = record.beats
    sample, symbol = np.asarray(beats.sample), list(beats.symbol)
    name = Path(path).name
    rng = random.Random(f"{seed}-{name}-{long}")
    out: list[Sample] = []

    def add(kind: str, k: str, start: int, length: int) -> None:
        end = start + length
        intervals = beat_intervals(sample, symbol, k, start, end, fs)
        if kind != "nat" and (kind == "pos") != bool(intervals):
            return
        sid = f"{dataset}-{name}-{k}-{'long' if long else 'short'}-{kind}-{len(out):04d}"
        question = f"Locate the {describe(k)} on this ECG."
        out.append(Sample(sid, "localization", dataset, "test",
                          (_ref(path, to_seconds(start, fs), to_seconds(end, fs)),), qa(question, format_answer(intervals, describe(k))),
                          {"abnormal_type": k, "intervals": [list(iv) for iv in intervals]}))

    for k in types:
        where = sample[[i for i, s in enumerate(symbol) if s == k]]
        for _ in range(n_pos if len(where) else 0):
            length = to_samples(_window_len(rng, long), fs)
            t = int(rng.choice(where))
            start = min(max(0, t - rng.randrange(length)), n_total - length)
            add("pos", k, start, length)
    for _ in range(n_neg):
        k = rng.choice(list(types))
        where = sample[[i for i, s in enumerate(symbol) if s == k]]
        for _try in range(200):
            length = to_samples(_window_len(rng, long), fs)
            start = rng.randrange(n_total - length)
            if not ((where >= start) & (where < start + length)).any():
                add("neg", k, start, length)
                break
    for _ in range(n_nat):
        length = to_samples(_window_len(rng, long), fs)
        start = rng.randrange(n_total - length)
        for k in types:
            add("nat", k, start, length)
    return out


def _ref(path: str | Path, start_s: float, end_s: float) -> ECGRef:
    return ECGRef(str(path), start_s, end_s, None)


def mitdb_windows(mitdb_dir: str | Path, records: Sequence[str] = DS2, **kwargs) -> list[EvalSample]:
    """`record_windows` over several records of a MIT-BIH directory, as `EvalSample`s."""
    samples = [s for r in records for s in record_windows(Path(mitdb_dir) / r, **kwargs)]
    return [from_sample(s, {}) for s in samples]


def balanced_subset(rows: Sequence[dict], *, types: Sequence[str] = ("A", "V", "L", "R"), per_side: int = 40,
                    seed: int = 0) -> list[dict]:
    """The balanced localization set of docs/results: from the data builder's `localization_test.jsonl` rows, 10 s
    windows only, per type in `types`' order `per_side` that hold the type and `per_side` that do not (one
    `random.Random(seed)`: `sample` of the positives, then of the negatives)."""
    rng = random.Random(seed)
    out: list[dict] = []
    for k in types:
        rows_k = [r for r in rows if r["meta"].get("window") == "10s" and r["meta"].get("abnormal_type") == k]
        pos = [r for r in rows_k if r["meta"]["intervals"]]
        neg = [r for r in rows_k if not r["meta"]["intervals"]]
        out += rng.sample(pos, min(per_side, len(pos))) + rng.sample(neg, min(per_side, len(neg)))
    return out


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(description=balanced_subset.__doc__.split(":")[0])
    ap.add_argument("source", help="the data builder's localization_test.jsonl")
    ap.add_argument("out", help="where to write the balanced subset (JSON lines)")
    ap.add_argument("--per-side", type=int, default=40)
    ap.add_argument("--shuffle", type=int, metavar="SEED",
                    help="write the windows in a seeded random order: any first K of them (an evaluation stopped "
                         "early and scored with --limit K) are then a random sample of the set")
    args = ap.parse_args()
    with open(args.source) as f:
        subset = balanced_subset([json.loads(line) for line in f], per_side=args.per_side)
    if args.shuffle is not None:
        random.Random(args.shuffle).shuffle(subset)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in subset))
    print(f"{args.out}: {len(subset)} windows")
