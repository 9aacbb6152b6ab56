"""Delineation against LUDB's cardiologists: global P duration, PR, QRS and QT per record.

Truth per beat: the median across the leads where the wave is annotated of their onsets and of their offsets;
per record: the median over beats. Ours: `anyecg.findings.read_findings` (the median beat's intervals).
Comparators: neurokit2's `ecg_delineate` (discrete wavelet method) on lead II, median over beats; ecgdeli (the
Python port of KIT-IBT ECGdeli) on all leads, per beat the median across leads, median over beats. Both are optional
(`pip install anyecg[compare]`); a part whose package is missing is left out of the table.
Reported beside the IEC 60601-2-51 tolerances for global intervals (mean / SD of the differences).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from anyecg.io import read_record
from anyecg.io.record import ECGRecord

LUDB_LEADS = ("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")
INTERVALS = ("p_ms", "pr_ms", "qrs_ms", "qt_ms")
LABELS = {"p_ms": "P duration", "pr_ms": "PR", "qrs_ms": "QRS", "qt_ms": "QT"}
# IEC 60601-2-51 tolerances for global intervals: (mean, SD) of the differences, ms
IEC_TOLERANCE = {"p_ms": (10, 15), "pr_ms": (10, 10), "qrs_ms": (6, 10), "qt_ms": (12, 30)}
TUNE_RECORDS = tuple(range(1, 121))
TEST_RECORDS = tuple(range(121, 161))


def _lead_waves(path: Path, lead: str) -> list[tuple[str, int, int, int]]:
    """(kind 'p'/'N'/'t', onset, peak, offset) of every fully annotated wave in one lead's file."""
    rec = read_record(path, annotations=lead)
    out, onset, peak = [], None, None
    for s, sym in zip(rec.beats.sample, rec.beats.symbol, strict=True):
        if sym == "(":
            onset, peak = int(s), None
        elif sym == ")":
            if onset is not None and peak is not None:
                out.append((peak[0], onset, peak[1], int(s)))
            onset, peak = None, None
        else:
            peak = (sym, int(s))
    return out


def ludb_truth(path: str | Path, fs: float = 500.0) -> dict[str, float | None]:
    """Per-record cardiologists' P duration, PR, QRS and QT (ms): per beat the median across annotated leads of
    onsets and of offsets, then the median over beats."""
    path = Path(path)
    waves = [w for lead in LUDB_LEADS for w in _lead_waves(path, lead)]
    qrs = sorted((w for w in waves if w[0] == "N"), key=lambda w: w[2])
    groups: list[list[tuple]] = []
    for w in qrs:
        if groups and w[2] - np.median([g[2] for g in groups[-1]]) < 0.15 * fs:
            groups[-1].append(w)
        else:
            groups.append([w])
    per_beat: dict[str, list[float]] = {k: [] for k in INTERVALS}
    peaks = [float(np.median([g[2] for g in grp])) for grp in groups]
    for j, grp in enumerate(groups):
        on, off = float(np.median([g[1] for g in grp])), float(np.median([g[3] for g in grp]))
        per_beat["qrs_ms"].append(off - on)
        prev_peak = peaks[j - 1] if j else -math.inf
        next_peak = peaks[j + 1] if j + 1 < len(peaks) else math.inf
        ps = [w for w in waves if w[0] == "p" and max(prev_peak, on - 0.5 * fs) < w[2] < on]
        ts = [w for w in waves if w[0] == "t" and off < w[2] < min(next_peak, off + 0.8 * fs)]
        if ps:
            p_on, p_off = float(np.median([w[1] for w in ps])), float(np.median([w[3] for w in ps]))
            per_beat["p_ms"].append(p_off - p_on)
            per_beat["pr_ms"].append(on - p_on)
        if ts:
            per_beat["qt_ms"].append(float(np.median([w[3] for w in ts])) - on)
    return {k: (1000.0 * float(np.median(v)) / fs if v else None) for k, v in per_beat.items()}


def ours(record: ECGRecord) -> dict[str, float | None]:
    from anyecg.findings.read import read_findings

    m = read_findings(record).measurements
    return {k: getattr(m, k) for k in INTERVALS}


def neurokit(record: ECGRecord) -> dict[str, float | None]:
    """neurokit2: `ecg_peaks` then `ecg_delineate(method="dwt")` on lead II; per-record median over beats."""
    import neurokit2 as nk

    x = record.signal[record.leads.index("II")].astype(np.float64)
    fs = round(record.fs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _, info = nk.ecg_peaks(x, sampling_rate=fs)
            _, w = nk.ecg_delineate(x, info["ECG_R_Peaks"], sampling_rate=fs, method="dwt")
        except Exception:  # neurokit2 raises on records it cannot delineate: count as "no value"
            return dict.fromkeys(INTERVALS)

    def arr(key: str) -> np.ndarray:
        return np.asarray(w.get(key, []), dtype=np.float64)

    p_on, p_off, r_on, r_off, t_off = (arr(k) for k in ("ECG_P_Onsets", "ECG_P_Offsets", "ECG_R_Onsets",
                                                          "ECG_R_Offsets", "ECG_T_Offsets"))
    n = min(map(len, (p_on, p_off, r_on, r_off, t_off)))
    p_on, p_off, r_on, r_off, t_off = (a[:n] for a in (p_on, p_off, r_on, r_off, t_off))

    def med(values: np.ndarray) -> float | None:
        values = values[np.isfinite(values) & (values > 0)]
        return 1000.0 * float(np.median(values)) / fs if len(values) else None

    return {"p_ms": med(p_off - p_on), "pr_ms": med(r_on - p_on), "qrs_ms": med(r_off - r_on),
            "qt_ms": med(t_off - r_on)}


def ecgdeli(record: ECGRecord) -> dict[str, float | None]:
    """ecgdeli (the Python port of KIT-IBT ECGdeli; GPL, a comparator only): its filter chain and multi-lead
    annotation on all leads; per beat the median across leads of each lead's onsets and offsets (the truth's rule),
    then the median over beats."""
    import ecgdeli as deli

    fs = record.fs
    try:
        x = deli.filter_ecg(np.nan_to_num(record.signal.T.astype(np.float64)), fs)
        ann = deli.annotate(x, fs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells
            s = np.nanmedian(np.stack([lead.samples for lead in ann.leads]), axis=0)
    except Exception:  # a record ecgdeli cannot delineate: no value
        return dict.fromkeys(INTERVALS)
    p_on, p_off, q_on, q_off, t_off = (s[:, c] for c in (0, 2, 3, 7, 11))

    def med(values: np.ndarray) -> float | None:
        values = values[np.isfinite(values) & (values > 0)]
        return 1000.0 * float(np.median(values)) / fs if len(values) else None

    return {"p_ms": med(p_off - p_on), "pr_ms": med(q_on - p_on), "qrs_ms": med(q_off - q_on),
            "qt_ms": med(t_off - q_on)}


METHODS: dict[str, Callable[[ECGRecord], dict[str, float | None]]] = {
    "anyecg": ours, "neurokit2-dwt": neurokit, "ecgdeli": ecgdeli}


def available_methods() -> list[str]:
    """Ours, and each comparator whose package is installed."""
    import importlib.util

    needs = {"neurokit2-dwt": "neurokit2", "ecgdeli": "ecgdeli"}
    return [m for m in METHODS if m not in needs or importlib.util.find_spec(needs[m]) is not None]


def compare(ludb: str | Path, records: Sequence[int], methods: Sequence[str] | None = None) -> dict:
    """Per record: truth and each method's intervals; per method and interval: n, mean and SD of the
    differences (method - truth, ms) over records where both exist; and the seconds each method took."""
    ludb = Path(ludb)
    methods = available_methods() if methods is None else list(methods)
    rows, seconds = [], dict.fromkeys(methods, 0.0)
    for r in records:
        path = ludb / "data" / str(r)
        record = read_record(path, annotations=False)
        row = {"record": r, "truth": ludb_truth(path, record.fs)}
        for m in methods:
            t0 = time.perf_counter()
            row[m] = METHODS[m](record)
            seconds[m] += time.perf_counter() - t0
        rows.append(row)
    summary = {}
    for m in methods:
        summary[m] = {}
        for k in INTERVALS:
            d = np.array([row[m][k] - row["truth"][k] for row in rows
                          if row[m][k] is not None and row["truth"][k] is not None])
            missing = sum(1 for row in rows if row["truth"][k] is not None and row[m][k] is None)
            summary[m][k] = {"n": len(d), "missing": missing,
                             "mean": float(d.mean()) if len(d) else None,
                             "sd": float(d.std(ddof=1)) if len(d) > 1 else None}
    return {"records": list(records), "rows": rows, "summary": summary,
            "seconds": {m: round(s, 2) for m, s in seconds.items()}}


def _within(stat: dict, k: str) -> str:
    mean_tol, sd_tol = IEC_TOLERANCE[k]
    if stat["mean"] is None or stat["sd"] is None:
        return "–"
    return "yes" if abs(stat["mean"]) <= mean_tol and stat["sd"] <= sd_tol else "no"


def markdown(result: dict, command: str) -> str:
    methods = list(result["summary"])
    recs = result["records"]
    lines = ["# Delineation on LUDB: global intervals against the cardiologists", "", "Made by:", "", "```",
             command, "```", "",
             f"LUDB records {recs[0]}-{recs[-1]} ({len(recs)} records, 12 leads, 500 Hz, 10 s). The delineator's "
             "thresholds were tuned on records 1-120 only; these records were not looked at while choosing.", "",
             "Truth per beat: the median across the leads where the wave is annotated of their onsets and of their "
             "offsets; per record: the median over beats. Differences are method − cardiologists, in ms, over "
             "the records where both give the interval (`missing`: the cardiologists give it, the method does "
             "not). IEC 60601-2-51 tolerance for global intervals: |mean| and SD of the differences.", "",
             "| interval | IEC mean / SD | " + " | ".join(f"{m} mean ± SD (n, missing) | within" for m in methods)
             + " |", "|---|---|" + "---|---|" * len(methods)]
    for k in INTERVALS:
        cells = []
        for m in methods:
            s = result["summary"][m][k]
            txt = "–" if s["mean"] is None else f"{s['mean']:+.1f} ± {s['sd']:.1f} ({s['n']}, {s['missing']})"
            cells += [txt, _within(s, k)]
        tol = IEC_TOLERANCE[k]
        lines.append(f"| {LABELS[k]} | ±{tol[0]} / {tol[1]} | " + " | ".join(cells) + " |")
    lines += ["", "Seconds for all records (this machine): "
              + ", ".join(f"{m} {s:g} s" for m, s in result["seconds"].items()), ""]
    return "\n".join(lines)


def run_part(data_dir: Path, command: str) -> tuple[dict, str]:
    """`anyecg eval findings --part delineation`: LUDB 121-160, ours beside neurokit2."""
    ludb = Path(data_dir) / "ludb"
    if not (ludb / "data" / "121.hea").is_file():
        from anyecg.errors import ConfigError

        raise ConfigError("LUDB records 121-160 not found (expected ludb/data/121.hea)", ludb)
    result = compare(ludb, TEST_RECORDS)
    return result, markdown(result, command)
