"""Localization samples from beat-annotated records: the paper's rule and answer format, via `signal.intervals`.

For each target (a beat symbol, or a rhythm / ST episode label) a record yields up to `max_pos` positive windows
per window kind (exactly 10 s, or a random 10-60 s), each holding a randomly chosen occurrence at a random
offset, and negatives (`No ... Found`) at random places without it. Windows whose signal has NaN or a flat lead
are rejected and counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from anyecg.data.schema import ECGRef, Sample, qa
from anyecg.data.templates import LOCALIZATION
from anyecg.io.record import ECGRecord
from anyecg.signal.intervals import (
    BEAT_SYMBOLS,
    RHYTHM_DESCRIPTIONS,
    beat_intervals,
    describe,
    episode_intervals,
    format_answer,
)
from anyecg.timebase import to_samples, to_seconds

WINDOW_KINDS = ("10s", "long")
NORMAL_RHYTHMS = frozenset({"(N", "(P"})  # not localization targets: normal sinus and paced rhythm


@dataclass(frozen=True)
class LocalizationOptions:
    """How many windows a record yields; all counts are per record, target and window kind."""

    max_pos: int = 20
    neg_ratio: float = 0.25  # negatives per positive for a target present in the record
    neg_absent: int = 2  # negatives for a target of the database absent from the record
    kinds: tuple[str, ...] = WINDOW_KINDS
    long_min_s: float = 10.0
    long_max_s: float = 60.0
    episodes: bool = True  # rhythm and ST episodes as targets (beyond the paper)


def target_kind(label: str) -> str:
    if label in BEAT_SYMBOLS:
        return "beat"
    return "rhythm" if label.upper() in RHYTHM_DESCRIPTIONS else "st"


@dataclass(frozen=True)
class BeatIndex:
    """A record's beat annotations only (non-beat ones dropped), for slicing around a window."""

    sample: np.ndarray
    symbol: np.ndarray

    @classmethod
    def of(cls, record: ECGRecord) -> BeatIndex:
        assert record.beats is not None
        keep = np.fromiter((s in BEAT_SYMBOLS for s in record.beats.symbol), bool, len(record.beats))
        return cls(record.beats.sample[keep], np.asarray(record.beats.symbol, dtype=object)[keep])

    def around(self, start: int, end: int) -> tuple[np.ndarray, list[str]]:
        """The beats in [start, end) plus one neighbour on each side: all the paper's rule looks at."""
        lo = max(0, int(np.searchsorted(self.sample, start, "left")) - 1)
        hi = int(np.searchsorted(self.sample, end, "left")) + 1
        return self.sample[lo:hi], list(self.symbol[lo:hi])


def answer_for(record: ECGRecord, target: str, start: int, end: int, beats: BeatIndex | None = None
               ) -> tuple[str, list[tuple[float, float]]]:
    """The answer and its intervals for `target` in the window [start, end) (whole-record samples).

    `beats` (from `BeatIndex.of(record)`) makes it O(window) instead of O(record): `beat_intervals` only sees the
    window's beats and their two outer neighbours, which gives the same intervals.
    """
    fs = record.fs
    if target_kind(target) == "beat":
        index = beats or BeatIndex.of(record)
        sample, symbol = index.around(start, end)
        intervals = beat_intervals(sample, symbol, target, start, end, fs)
    else:
        intervals = episode_intervals(record.events, target, to_seconds(start, fs), to_seconds(end, fs))
    return format_answer(intervals, describe(target)), intervals


def usable(record: ECGRecord, start: int, end: int) -> bool:
    """No NaN and no flat lead in the window (the record may be a windowed read: see `record.offset`)."""
    seg = record.signal[:, start - record.offset:end - record.offset]
    return bool(seg.size) and bool(np.isfinite(seg).all()) and bool((np.ptp(seg, axis=1) > 1e-6).all())


def slug(label: str) -> str:
    return re.sub(r"\W", "", label.replace("+", "p").replace("-", "m")) or "x"


def record_targets(record: ECGRecord, beat_targets: tuple[str, ...], opts: LocalizationOptions
                   ) -> dict[str, np.ndarray]:
    """target → its occurrences (anchor samples; for episodes: [start, end) sample pairs)."""
    assert record.beats is not None
    out: dict[str, np.ndarray] = {}
    symbols = np.asarray(record.beats.symbol)
    for sym in beat_targets:
        out[sym] = record.beats.sample[symbols == sym] if symbols.size else np.zeros(0, np.int64)
    if opts.episodes:
        for ev in record.events:
            if ev.label.upper() in NORMAL_RHYTHMS:
                continue
            try:
                describe(ev.label)
            except KeyError:
                continue
            pair = np.array([[to_samples(ev.start_s, record.fs), to_samples(ev.end_s, record.fs)]], np.int64)
            out[ev.label] = np.concatenate([out[ev.label], pair]) if ev.label in out else pair
    return out


def localization_samples(record: ECGRecord, *, source: str, key: str, ref: str, split: str,
                         beat_targets: tuple[str, ...], opts: LocalizationOptions,
                         rng: np.random.Generator, reject: Callable[[str], None]) -> list[Sample]:
    """All localization samples of one record (read whole, so `record.offset == 0`)."""
    samples: list[Sample] = []
    beats = BeatIndex.of(record)
    for target, occ in record_targets(record, beat_targets, opts).items():
        for kind in opts.kinds:
            maker = _WindowMaker(record, beats, target, kind, source, key, ref, split, opts, rng, reject)
            samples += maker.run(occ)
    return samples


class _WindowMaker:
    """The windows of one record, target and window kind."""

    def __init__(self, record: ECGRecord, beats: BeatIndex, target: str, kind: str, source: str, key: str,
                 ref: str, split: str, opts: LocalizationOptions, rng: np.random.Generator,
                 reject: Callable[[str], None]):
        self.record, self.target, self.kind, self.opts, self.rng, self.reject = record, target, kind, opts, rng, reject
        self.beats = beats
        self.source, self.key, self.ref, self.split = source, key, ref, split
        self.n = record.n_samples + record.offset
        self.description = describe(target)
        self.seen: set[tuple[int, int]] = set()
        self.samples: list[Sample] = []

    def length(self) -> int:
        seconds = 10.0 if self.kind == "10s" else float(
            np.round(self.rng.uniform(self.opts.long_min_s, self.opts.long_max_s), 1))
        return round(seconds * self.record.fs)

    def run(self, occ: np.ndarray) -> list[Sample]:
        rng, opts, episodic = self.rng, self.opts, occ.ndim == 2
        n_pos = 0 if not len(occ) else opts.max_pos if episodic else min(opts.max_pos, len(occ))
        picks = (rng.integers(len(occ), size=n_pos) if episodic else rng.choice(len(occ), n_pos, replace=False)
                 ) if n_pos else []
        for i in picks:
            length = self.length()
            if episodic:
                a, b = (int(x) for x in occ[i])
                t = int(rng.integers(a, max(a + 1, min(b, self.n))))
            else:
                t = int(occ[i])
            lo, hi = max(0, t - length + 1), min(t, self.n - length)
            if lo <= hi:
                self.emit(int(rng.integers(lo, hi + 1)), length, positive=True)
        n_neg = round(opts.neg_ratio * n_pos) if n_pos else opts.neg_absent
        made = 0
        for _ in range(3 * n_neg):  # a few tries each: windows without the target may be rare
            if made >= n_neg:
                break
            length = self.length()
            if length <= self.n:
                made += self.emit(int(rng.integers(0, self.n - length + 1)), length, positive=False)
        return self.samples

    def emit(self, start: int, length: int, positive: bool) -> bool:
        if (start, length) in self.seen:
            return False
        self.seen.add((start, length))
        record, fs = self.record, self.record.fs
        if not usable(record, start, start + length):
            self.reject("window with NaN or a flat lead")
            return False
        answer, intervals = answer_for(record, self.target, start, start + length, self.beats)
        if bool(intervals) != positive:
            return False
        question = LOCALIZATION[int(self.rng.integers(len(LOCALIZATION)))].format(X=self.description)
        window = ECGRef(self.ref, round(to_seconds(start, fs), 6), round(to_seconds(start + length, fs), 6),
                        tuple(record.leads))
        meta = {"abnormal_type": self.target, "description": self.description,
                "target_kind": target_kind(self.target), "window": self.kind,
                "intervals": [list(iv) for iv in intervals], "record": self.key, "fs": fs,
                "start_sample": start, "end_sample": start + length, "duration_s": round(to_seconds(length, fs), 6)}
        sid = f"{self.source}-{self.key}-{self.kind}-{slug(self.target)}-{len(self.samples):04d}"
        self.samples.append(Sample(sid, "localization", self.source, self.split, (window,),
                                   qa(question, answer), meta))
        return True
