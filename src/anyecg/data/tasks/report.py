"""ReportGen samples, answer format `Report: a, b, c` (the paper's).

Databases with reports (MIMIC-IV-ECG machine reports, PTB-XL statements) use them; beat-annotated Holter records
get reports written from their annotations for random 10-60 s windows: rhythm(s), heart rate from the beats,
ectopic / abnormal beat classes with counts, ST episodes; several phrasings of each part. Rhythms and the beat classes
that are statements use the names of `anyecg.vocabulary` (MIT-BIH's 'A' beats are "Premature atrial contraction",
as CinC's PAC code; 'L' beats "Left bundle branch block", written without a count, as a 12-lead statement).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from anyecg.data.schema import ECGRef, Sample, qa
from anyecg.data.tasks.localization import target_kind, usable
from anyecg.data.templates import REPORT
from anyecg.io.record import ECGRecord
from anyecg.signal.intervals import BEAT_SYMBOLS, describe
from anyecg.timebase import to_samples, to_seconds
from anyecg.vocabulary import STATEMENTS, beat_name

_RATE_PHRASES = ("Heart rate {hr} bpm", "Ventricular rate {hr} bpm", "Rate {hr} beats per minute")
_COUNT_PHRASES = ("{desc} x{n}", "{desc} ({n} beat{s})", "{desc}: {n}")


def report_answer(parts: list[str]) -> str:
    return "Report: " + ", ".join(parts)


def question(rng: np.random.Generator) -> str:
    return REPORT[int(rng.integers(len(REPORT)))]


def window_findings(record: ECGRecord, start: int, end: int) -> dict:
    """Labels of a window: rhythms and ST episodes overlapping it, beat counts, heart rate (None if < 2 beats)."""
    fs = record.fs
    rhythms: list[str] = []
    st: list[str] = []
    for ev in record.events:
        if ev.end_s * fs <= start or ev.start_s * fs >= end:
            continue
        try:
            name = describe(ev.label)
        except KeyError:
            continue
        (st if target_kind(ev.label) == "st" else rhythms).append(name)
    counts: Counter[str] = Counter()
    beat_samples: list[int] = []
    if record.beats is not None:
        for s, sym in zip(record.beats.sample.tolist(), record.beats.symbol, strict=True):
            if start <= s < end and sym in BEAT_SYMBOLS:
                beat_samples.append(s)
                if sym != "N":
                    counts[sym] += 1
    hr = None
    if len(beat_samples) >= 2 and beat_samples[-1] > beat_samples[0]:
        hr = round(60.0 * (len(beat_samples) - 1) * fs / (beat_samples[-1] - beat_samples[0]))
    beats: Counter[str] = Counter()
    for sym, n in sorted(counts.items()):
        beats[beat_name(sym) or describe(sym)] += n
    return {"rhythms": list(dict.fromkeys(rhythms)), "st": list(dict.fromkeys(st)), "beats": dict(beats),
            "heart_rate": hr}


def findings_parts(findings: dict, rng: np.random.Generator) -> list[str]:
    """Report phrases of a window's findings (phrasing chosen by rng, names always verbatim)."""
    parts = list(findings["rhythms"])
    if findings["heart_rate"] is not None:
        parts.append(_RATE_PHRASES[int(rng.integers(len(_RATE_PHRASES)))].format(hr=findings["heart_rate"]))
    phrase = _COUNT_PHRASES[int(rng.integers(len(_COUNT_PHRASES)))]
    parts += [desc if _is_pattern(desc) else phrase.format(desc=desc, n=n, s="s" if n != 1 else "")
              for desc, n in findings["beats"].items()]
    parts += findings["st"]
    return parts


def _is_pattern(name: str) -> bool:
    """A beat class that is a conduction statement (bundle branch block): named without a beat count."""
    return STATEMENTS.get(name, ("", ""))[0] == "conduction"


def holter_reports(record: ECGRecord, *, source: str, key: str, ref: str, split: str, n_windows: int,
                   rng: np.random.Generator, min_s: float = 10.0, max_s: float = 60.0) -> list[Sample]:
    """`n_windows` report samples for random 10-60 s windows of a whole-record read."""
    fs, n = record.fs, record.n_samples + record.offset
    samples: list[Sample] = []
    for _ in range(n_windows * 2):
        if len(samples) >= n_windows:
            break
        length = to_samples(float(np.round(rng.uniform(min_s, max_s), 1)), fs)
        if length > n:
            break
        start = int(rng.integers(0, n - length + 1))
        if not usable(record, start, start + length):
            continue
        findings = window_findings(record, start, start + length)
        parts = findings_parts(findings, rng)
        if not parts:
            continue
        labels = findings["rhythms"] + list(findings["beats"]) + findings["st"]
        meta = {"labels": labels, "findings": findings, "record": key, "fs": fs, "start_sample": start,
                "end_sample": start + length, "duration_s": round(to_seconds(length, fs), 6)}
        window = ECGRef(ref, round(to_seconds(start, fs), 6), round(to_seconds(start + length, fs), 6),
                        tuple(record.leads))
        samples.append(Sample(f"{source}-{key}-report-{len(samples):04d}", "report", source, split, (window,),
                              qa(question(rng), report_answer(parts)), meta))
    return samples


def label_report(*, source: str, key: str, ref: str, split: str, labels: tuple[str, ...],
                 report: tuple[str, ...], duration_s: float | None, rng: np.random.Generator,
                 extra: dict | None = None) -> Sample | None:
    """One report sample for a whole 12-lead ECG: the database's report lines, else its label names."""
    parts = [p for p in (report or labels) if p]
    if not parts:
        return None
    meta = {"labels": list(labels), "record": key, "report_source": "database" if report else "labels",
            **({"duration_s": duration_s} if duration_s is not None else {}), **(extra or {})}
    return Sample(f"{source}-{key}-report", "report", source, split, (ECGRef(ref),),
                  qa(question(rng), report_answer(parts)), meta)
