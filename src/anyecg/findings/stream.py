"""Beats and rhythm of a record of any length, read block by block with bounded memory.

`beat_track` reads the record in blocks of `BLOCK_S` (plus `MARGIN_S` on each side so that the beats near a
block edge have their neighbours: RR, dominant beat, P-wave template), detects and classifies the beats of each
block and keeps those that fall in the block's own span; a beat found by two blocks (detections a few samples
apart across an edge) is kept once. Only per-beat arrays outlive a block (~100,000 beats for 24 h), so the peak
memory is one block's signal whatever the duration. `rhythm_findings` turns the track into an `ECGFindings`
(beat times and classes, record-level conduction, episodes, notes).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from anyecg.findings.beat_classes import (
    QRS_WIDE_MS,
    Conduction,
    checked_classes,
    classify_beats,
    conduction,
    dominant_beat,
)
from anyecg.findings.pacing import paced_beats, paced_qrs_ms, spike_score
from anyecg.findings.rhythm import gap_activity, p_wave_score, rhythm_episodes
from anyecg.findings.types import ECGFindings, Evidence, Statement
from anyecg.io.record import ECGRecord
from anyecg.signal.beats import bandpass, beat_leads, detect_two_leads

BLOCK_S = 600.0
MARGIN_S = 30.0
REFRACTORY_S = 0.2  # two detections closer than this are one beat


def beat_lead_names(leads: Sequence[str]) -> tuple[str, str | None]:
    """The leads `beat_leads` takes: II (else the first), then V1 (else the next; None with one lead)."""
    leads = list(leads)
    first = leads.index("II") if "II" in leads else 0
    rest = [i for i in range(len(leads)) if i != first]
    second = leads.index("V1") if "V1" in leads and leads[first] != "V1" else (rest[0] if rest else None)
    return leads[first], (leads[second] if second is not None else None)


@dataclass
class BeatTrack:
    """Per-beat arrays of a whole record (times from the read's start) and what the rhythm read needs."""

    source: str
    fs: float
    start_s: float
    duration_s: float
    leads: tuple[str, ...]
    times_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    classes: tuple[str, ...] = ()  # per-beat classifier output (N V S F Q), before the record-level checks
    p_score: np.ndarray = field(default_factory=lambda: np.zeros(0))
    template: np.ndarray | None = None  # dominant N beat, both beat leads, -0.2 … +0.3 s at fs
    spike: np.ndarray = field(default_factory=lambda: np.zeros(0))  # pacemaker spike score (`pacing.spike_score`)
    gap: np.ndarray = field(default_factory=lambda: np.zeros(0))  # activity in a long RR (`rhythm.gap_activity`)

    def __len__(self) -> int:
        return len(self.times_s)


def _blocks(total_s: float, block_s: float) -> Iterator[tuple[float, float]]:
    n = max(1, math.ceil(total_s / block_s - 1e-9))
    for i in range(n):
        yield i * block_s, min(total_s, (i + 1) * block_s)


def beat_track(source: str | Path | ECGRecord, *, start_s: float | None = None, end_s: float | None = None,
               lead_map: str | None = None, fs: float | None = None, block_s: float = BLOCK_S) -> BeatTrack:
    """Detect, classify and P-score the beats of a file (read block by block) or an in-memory record."""
    if isinstance(source, ECGRecord):
        rec_fs, leads, total = source.fs, source.leads, source.duration_s
        name = str(source.source or "record")
    else:
        from anyecg.io import read_info

        info = read_info(source, lead_map=lead_map, fs=fs)
        rec_fs, leads, total, name = info.fs, info.leads, info.duration_s, str(source)
    a0 = max(0.0, start_s or 0.0)
    a1 = min(total, end_s if end_s is not None else total)
    span = max(0.0, a1 - a0)
    times, classes, pscores, templates, spikes, gaps = [], [], [], [], [], []
    for b0, b1 in _blocks(span, block_s):
        lo, hi = max(0.0, a0 + b0 - MARGIN_S), min(total, a0 + b1 + MARGIN_S)
        if isinstance(source, ECGRecord):
            i0, i1 = round(lo * rec_fs), round(hi * rec_fs)
            signal = source.signal[:, i0:i1]
        else:
            from anyecg.io import read_record

            signal = read_record(source, lead_map=lead_map, fs=fs, start_s=lo, end_s=hi, annotations=False).signal
        x = beat_leads(signal, leads)
        det = detect_two_leads(x, rec_fs)
        if not len(det):
            continue
        t = lo + det / rec_fs - a0  # seconds from the read's start
        own = (t >= b0) & (t < b1)
        cls, p, tmpl, spike, gap = _read_beats(x, rec_fs, det, own)
        if tmpl is not None:
            templates.append((tmpl, cls.count("N")))
        times.append(t[own])
        classes += cls
        pscores.append(p)
        spikes.append(spike)
        gaps.append(gap)
    t_all = np.concatenate(times) if times else np.zeros(0)
    p_all = np.concatenate(pscores) if pscores else np.zeros(0)
    s_all = np.concatenate(spikes) if spikes else np.zeros(0)
    g_all = np.concatenate(gaps) if gaps else np.zeros(0)
    keep = np.concatenate([[True], np.diff(t_all) >= REFRACTORY_S]) if len(t_all) else np.zeros(0, bool)
    template = None
    if templates:  # the blocks' dominant beats, weighted by how many N beats each rests on
        w = np.array([n for _, n in templates], dtype=np.float64)
        template = np.tensordot(w / w.sum(), np.stack([tm for tm, _ in templates]), axes=1)
    return BeatTrack(name, rec_fs, a0, span, tuple(leads), t_all[keep],
                     tuple(c for c, k in zip(classes, keep, strict=True) if k), p_all[keep], template, s_all[keep],
                     g_all[keep])


def _read_beats(x: np.ndarray, fs: float, beats: np.ndarray, own: np.ndarray
                ) -> tuple[list[str], np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """Classes, P scores, the dominant N beat, the pacemaker spike scores and the long gaps' activity of the `own`
    beats, the others giving them context (`x`: the raw beat leads; the spike is read before the band-pass)."""
    xf = bandpass(x, fs)
    every = classify_beats(xf, fs, beats, filtered=True)
    cls = [c for c, o in zip(every, own, strict=True) if o]
    return (cls, p_wave_score(xf[0], fs, beats, classes=every)[own],
            dominant_beat(xf, fs, beats[own], cls, filtered=True), spike_score(x, fs, beats)[own],
            gap_activity(x[0], fs, beats)[own])


def track_of(signal: np.ndarray, fs: float, leads: Sequence[str], beats: np.ndarray, *, source: str = "",
             start_s: float = 0.0) -> BeatTrack:
    """The `BeatTrack` of an ECG already in memory (signal [leads, n] in mV) whose beats (samples) are known,
    e.g. from `read_findings`' detection."""
    beats = np.asarray(beats, dtype=np.int64)
    track = BeatTrack(source, fs, start_s, signal.shape[1] / fs, tuple(leads))
    if len(beats):
        cls, p, tmpl, spike, gap = _read_beats(beat_leads(signal, leads), fs, beats, np.ones(len(beats), bool))
        track.times_s, track.classes, track.p_score, track.template = beats / fs, tuple(cls), p, tmpl
        track.spike, track.gap = spike, gap
    return track


def rhythm_findings(track: BeatTrack, *, qrs_ms: float | None = None) -> ECGFindings:
    """Beat classes after the record-level checks, episodes and notes of a `BeatTrack` as an `ECGFindings`
    (`qrs_ms`: the delineation's global QRS when known)."""
    first, second = beat_lead_names(track.leads)
    picked = (first,) + ((second,) if second else ())
    notes: list[str] = []
    if not len(track):
        notes.append("no beats detected")
        return ECGFindings(track.source, track.fs, track.start_s, track.duration_s, track.leads,
                           notes=tuple(notes))
    # AF first on the raw classes (AF reads only the ectopic V/F/Q beats), then the checks, then all episodes
    raw_eps, _ = rhythm_episodes(track.times_s, track.classes, duration_s=track.duration_s, p_score=track.p_score)
    af = np.zeros(len(track), bool)
    for e in raw_eps:
        if e.kind in ("AF", "AFL"):
            af |= (track.times_s >= e.start_s) & (track.times_s <= e.end_s)
    cond = conduction(track.template, track.fs, picked, qrs_ms=qrs_ms)
    narrow = cond.qrs_ms is not None and np.isfinite(cond.qrs_ms) and cond.qrs_ms < QRS_WIDE_MS
    is_v = np.fromiter((c == "V" for c in track.classes), bool, len(track))
    rr = np.diff(track.times_s, prepend=np.nan)
    v_rate = 60.0 / float(np.nanmedian(rr[is_v])) if is_v.sum() > 1 and np.isfinite(rr[is_v]).any() else None
    paced = paced_beats(track.spike, paced_qrs_ms(track.template, track.fs, cond.qrs_ms), track.fs) \
        if len(track.spike) == len(track) else np.zeros(len(track), bool)
    mostly_paced = paced.mean() >= 0.5
    if mostly_paced:  # the dominant beat is the paced one: its width is pacing, not a bundle branch block
        cond = Conduction(cond.qrs_ms, None, f"paced QRS ({cond.reason})")
    classes = checked_classes(track.classes, block=cond.block, af_mask=af, narrow=narrow, v_rate_bpm=v_rate)
    classes = tuple("P" if p else c for c, p in zip(classes, paced, strict=True))
    episodes, ep_notes = rhythm_episodes(track.times_s, classes, duration_s=track.duration_s, p_score=track.p_score,
                                         gap_activity=track.gap)
    notes += ep_notes
    if second is None:
        notes.append("one lead: beat morphology read on that lead alone")
    if cond.block is None and not mostly_paced and cond.qrs_ms is not None and np.isfinite(cond.qrs_ms) and \
            cond.qrs_ms >= QRS_WIDE_MS:
        notes.append(f"wide QRS ({cond.qrs_ms:.0f} ms) but V1 not recorded: bundle branch block side not read")
    statements: tuple[Statement, ...] = ()
    if cond.block is not None:
        name = "Left bundle branch block" if cond.block == "L" else "Right bundle branch block"
        statements = (Statement(name, 0.8, "criteria", Evidence(leads=picked, reason=cond.reason)),)
    if paced.any():
        share = float(paced.mean())
        statements += (Statement("Pacing rhythm", share, "criteria", Evidence(
            leads=picked, beats=tuple(np.flatnonzero(paced)[:20].tolist()),
            reason=f"pacemaker spike before a wide QRS in {100 * share:.0f} % of the beats")),)
    return ECGFindings(track.source, track.fs, track.start_s, track.duration_s, track.leads,
                       beat_times_s=track.times_s, beat_classes=classes, statements=statements,
                       episodes=episodes, notes=tuple(notes))
