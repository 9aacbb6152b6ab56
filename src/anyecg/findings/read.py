"""`read_findings`: the machine read of one ECG (record or window), step by step."""

from __future__ import annotations

import threading
import weakref
from dataclasses import replace
from pathlib import Path

import numpy as np

from anyecg.findings.delineate import delineate
from anyecg.findings.flutter import flutter_waves
from anyecg.findings.measure import measure
from anyecg.findings.statements import make_statements, without_contradictions
from anyecg.findings.stream import beat_track, rhythm_findings, track_of
from anyecg.findings.types import ECGFindings, Episode, Evidence
from anyecg.io.record import ECGRecord
from anyecg.signal.beats import detect_beats_multilead, detect_two_leads, usable_leads
from anyecg.signal.preprocess import ECGInput, window_samples

MIN_RHYTHM_S = 2.0  # beat detection needs this much signal
MIN_FS = 100.0  # below this, intervals are coarse
MULTILEAD_MAX_S = 600.0  # vote R peaks across leads up to this length (longer: one lead, bounded time)
RHYTHM_CONTEXT_S = 60.0  # a window's rhythm episodes are read with this much of its recording on each side (set on DS1)
CONTEXT_MAX_S = 600.0  # ... when the window is no longer than this (the edges of a longer one matter little)


def lead_positions_known(record: ECGRecord) -> bool:
    """False when some lead was placed only by its generic name ("ECG", "ECG1": see `anyecg.leads`)."""
    return not record.metadata.get("guessed_leads")


def _fill_nans(x: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN runs per lead (an all-NaN lead becomes zeros)."""
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    for lead in out:
        bad = np.isnan(lead)
        if bad.all():
            lead[:] = 0.0
        elif bad.any():
            lead[bad] = np.interp(np.flatnonzero(bad), np.flatnonzero(~bad), lead[~bad])
    return out


def signal_notes(signal: np.ndarray, fs: float, leads: tuple[str, ...]) -> list[str]:
    """What is wrong with the input before any detection: short, coarse, flat or NaN leads."""
    notes = []
    duration = signal.shape[1] / fs
    if duration < MIN_RHYTHM_S:
        notes.append(f"too short for rhythm ({duration:.1f} s; beat detection needs {MIN_RHYTHM_S:g} s)")
    if fs < MIN_FS:
        notes.append(f"low sampling rate ({fs:g} Hz): intervals are coarse")
    good = set(usable_leads(signal))
    bad = [lead for i, lead in enumerate(leads) if i not in good]
    if bad:
        notes.append(f"flat or missing lead(s) left out: {', '.join(bad)}")
    nan = [lead for i, lead in enumerate(leads) if i in good and np.isnan(signal[i]).any()]
    if nan:
        notes.append(f"NaN samples interpolated in {', '.join(nan)}")
    return notes


def find_beats(signal: np.ndarray, fs: float) -> np.ndarray:
    """R peaks: voted across leads for ECGs up to `MULTILEAD_MAX_S`, else on the first two usable leads
    (`detect_two_leads`, as the block reader does)."""
    if signal.shape[1] / fs <= MULTILEAD_MAX_S:
        return detect_beats_multilead(signal, fs)
    rows = usable_leads(signal)
    return detect_two_leads(signal[rows[:2]], fs) if rows else np.zeros(0, dtype=np.int64)


def read_findings(record: ECGRecord, *, start_s: float | None = None, end_s: float | None = None) -> ECGFindings:
    """Detect beats, delineate them and measure, on the record (or the window start_s-end_s, seconds from the
    recording start) at its own rate in mV. Never raises on a poor signal: `notes` says what could not be read."""
    i0, i1, start = window_samples(record, start_s, end_s)
    raw = record.signal[:, i0:i1]
    fs, leads = record.fs, record.leads
    known = lead_positions_known(record)
    notes = signal_notes(raw, fs, leads)
    if not known:
        notes.append("lead positions unknown (channels named only 'ECG'): no statement that needs a known lead")
    x = _fill_nans(raw)
    x[[i for i in range(len(leads)) if i not in usable_leads(raw)]] = 0.0

    beats = find_beats(x, fs)
    if len(beats) == 0:
        notes.append("no beats detected")
    delineation = delineate(x, fs, beats, leads)
    measurements, measure_notes = measure(beats, fs, delineation, lead_positions_known=known)
    if known and (flutter := flutter_waves(x, fs, leads, beats)) is not None:
        measurements = replace(measurements, flutter_wave_score=flutter.score, flutter_rate_bpm=flutter.atrial_rate_bpm)
    notes += [n for n in (*delineation.notes, *measure_notes) if n not in notes]

    # beats are classified at their detections, as the classifier was trained and as `beat_track` reads long
    # records: the delineation aligns only the beats of the segments it samples (`delineate.MAX_SEGMENTS`)
    rhythm = rhythm_findings(track_of(x, fs, leads, beats), qrs_ms=measurements.qrs_ms)
    notes += [n for n in rhythm.notes if n.split(" (")[0] not in {m.split(" (")[0] for m in notes}]
    episodes, classes = rhythm.episodes, rhythm.beat_classes
    if len(beats) and (in_context := _read_in_context(record, start, x.shape[1] / fs, measurements.qrs_ms)):
        episodes, context_beats, note = in_context
        classes = _classes_in_context(delineation.waves.r_peak / fs, classes, *context_beats)
        notes.append(note)
    findings = ECGFindings(
        source=str(record.source) if record.source is not None else "", fs=fs, start_s=start,
        duration_s=x.shape[1] / fs, leads=leads, lead_positions_known=known,
        beat_times_s=delineation.waves.r_peak / fs, beat_classes=classes, waves=delineation.waves,
        measurements=measurements, episodes=episodes, notes=tuple(notes))
    return without_contradictions(replace(findings, statements=make_statements(findings, x)))


def _classes_in_context(times_s: np.ndarray, classes: tuple[str, ...], context_times_s: np.ndarray,
                        context_classes: tuple[str, ...]) -> tuple[str, ...]:
    """Each window beat's class as the context read gave it (the nearest context beat within 75 ms), else its own."""
    if not len(context_times_s) or not len(times_s):
        return classes
    j = np.clip(np.searchsorted(context_times_s, times_s), 1, len(context_times_s) - 1)
    j = np.where(np.abs(context_times_s[j - 1] - times_s) < np.abs(context_times_s[j] - times_s), j - 1, j)
    near = np.abs(context_times_s[j] - times_s) <= 0.075
    return tuple(context_classes[k] if ok else c for c, k, ok in zip(classes, j, near, strict=True))


def _read_in_context(record: ECGRecord, start_s: float, duration_s: float, qrs_ms: float | None
                     ) -> tuple[tuple[Episode, ...], tuple[np.ndarray, tuple[str, ...]], str] | None:
    """The rhythm episodes of the window [start_s, start_s + duration_s) (seconds from the recording start) read
    over up to `RHYTHM_CONTEXT_S` more of the record on each side, clipped to the window, in window seconds; that
    read's beat times (window seconds) and classes; and a note saying so. None when the record holds less than a
    second beyond the window or the window is longer than `CONTEXT_MAX_S`. A 10 s window alone has too few beats
    for the ±16-interval AF statistic (MIT-BIH 10 s windows, AF sensitivity / specificity: 0.730 / 0.967 read
    alone, 0.960 / 0.969 in their recording), and the beat classifier compares each beat with the ±16 beats around
    and its RR with the ±150 around (DS1 windows, V sensitivity / PPV 0.66 / 0.52 alone, 0.94 / 0.96 in context;
    S 0.22 / 0.35 and 0.68 / 0.87)."""
    if duration_s > CONTEXT_MAX_S:
        return None
    first, last = record.offset_s, record.offset_s + record.duration_s
    end_s = start_s + duration_s
    lo, hi = max(first, start_s - RHYTHM_CONTEXT_S), min(last, end_s + RHYTHM_CONTEXT_S)
    if start_s - lo < 1.0 and hi - end_s < 1.0:
        return None
    read = rhythm_findings(beat_track(record.cut(lo, hi)), qrs_ms=qrs_ms)  # times from lo
    shift = lo - start_s
    episodes = []
    for e in read.episodes:
        a, b = max(0.0, e.start_s + shift), min(duration_s, e.end_s + shift)
        if b > a:
            ev = e.evidence
            episodes.append(replace(e, start_s=a, end_s=b, evidence=Evidence(leads=ev.leads, reason=ev.reason)))
    return tuple(episodes), (read.beat_times_s + shift, read.beat_classes), (
        f"rhythm episodes and beat classes read with {start_s - lo:.0f} s before and {hi - end_s:.0f} s after the "
        "window")


def read_window(path: str | Path, *, start_s: float | None = None, end_s: float | None = None,
                lead_map: str | None = None, fs: float | None = None) -> ECGRecord:
    """A window of a file with up to `RHYTHM_CONTEXT_S` of the recording on each side, for `read_findings(record,
    start_s=..., end_s=...)` to read the window's rhythm in context (the whole file when no window is given)."""
    from anyecg.io import read_info, read_record

    lo, hi = start_s, end_s
    if start_s is not None or end_s is not None:
        info = read_info(path, lead_map=lead_map, fs=fs)
        a = 0.0 if start_s is None else start_s
        b = info.duration_s if end_s is None else end_s
        if 0.0 <= a < b <= info.duration_s + 0.5 / info.fs:  # else the reader says what is wrong with the window
            lo = None if start_s is None else max(0.0, a - RHYTHM_CONTEXT_S)
            hi = None if end_s is None else min(info.duration_s, b + RHYTHM_CONTEXT_S)
    return read_record(path, lead_map=lead_map, fs=fs, start_s=lo, end_s=hi, annotations=False)


def read_file_findings(path: str | Path, *, start_s: float | None = None, end_s: float | None = None,
                       lead_map: str | None = None, fs: float | None = None) -> ECGFindings:
    """`read_findings` of a file's window (or of the whole file), the window read in its recording."""
    record = read_window(path, start_s=start_s, end_s=end_s, lead_map=lead_map, fs=fs)
    return read_findings(record, start_s=start_s, end_s=end_s)


_READS: weakref.WeakKeyDictionary[ECGInput, ECGFindings] = weakref.WeakKeyDictionary()
_READS_LOCK = threading.Lock()


def findings_of(x: ECGInput) -> ECGFindings | None:
    """The machine read of the window a model input was cut from (its `record`), computed once per `ECGInput` and
    shared by the prompt's findings block, the checks and `ECGChat.machine_read`; None when the input carries no
    record."""
    if x.record is None:
        return None
    with _READS_LOCK:
        found = _READS.get(x)
    if found is None:
        found = read_findings(x.record, start_s=x.start_s, end_s=x.start_s + x.duration_s)
        with _READS_LOCK:
            _READS[x] = found
    return found
