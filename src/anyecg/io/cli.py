"""`anyecg info FILE...`: what a file holds (format, rate, leads → slots, annotations, amplitude, NaN/flat leads)."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from anyecg.errors import MissingRateError
from anyecg.io.reader import read_info, read_record
from anyecg.timebase import format_clock

CHUNK_S = 1800.0  # long records are scanned 30 min at a time (bounded memory)
FLAT_MV = 1e-6
MAX_COMMENTS = 20  # header comment lines shown (all of them with --json)


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("info", help="describe ECG files: format, rate, leads, annotations, signal quality",
                              description="Describe ECG files (WFDB, EDF/BDF, CSV/TSV, NPY/NPZ, HL7/MUSE XML, "
                                          "CPSC .mat) without changing them.")
    p.add_argument("files", nargs="+", metavar="FILE", help="ECG file or WFDB record name (e.g. mitdb/100)")
    p.add_argument("--lead-map", help="rename or drop channels: 'ECG A=II,Resp=-'")
    p.add_argument("--fs", type=float, help="sampling rate for files that store none (CSV without time, .npy)")
    p.add_argument("--drop-unknown", action="store_true", help="drop channels that fit no ECG lead")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON (a list, one per file)")
    p.set_defaults(func=run_info)


def describe(path: str | Path, *, lead_map: str | None = None, fs: float | None = None,
             drop_unknown: bool = False) -> dict:
    """Everything `anyecg info` reports about one file, as JSON-ready data."""
    opts = {"lead_map": lead_map, "fs": fs, "drop_unknown": drop_unknown}
    try:
        info = read_info(path, **opts)
    except MissingRateError:
        if fs is not None:
            raise
        # Describe what the file holds anyway (samples, leads, amplitudes), at a placeholder rate of 1 Hz.
        d = describe(path, lead_map=lead_map, fs=1.0, drop_unknown=drop_unknown)
        d.update(fs=None, duration_s=None, notes=["sampling rate unknown: give --fs", *d["notes"]])
        return d
    n_leads = len(info.leads)
    lo, hi = np.full(n_leads, np.inf), np.full(n_leads, -np.inf)
    nan = np.zeros(n_leads, dtype=np.int64)
    first = None
    start = 0.0
    while start < info.duration_s:
        end = min(start + CHUNK_S, info.duration_s)
        rec = read_record(path, start_s=start, end_s=end, annotations=first is None, **opts)
        first = first or rec
        nans = np.isnan(rec.signal)
        nan += nans.sum(axis=1)
        lo = np.minimum(lo, np.where(nans, np.inf, rec.signal).min(axis=1))
        hi = np.maximum(hi, np.where(nans, -np.inf, rec.signal).max(axis=1))
        start = end
    leads = []
    for i, (raw, lead) in enumerate(zip(info.raw_leads, info.leads, strict=True)):
        all_nan = int(nan[i]) == info.n_samples
        leads.append({"raw": raw, "lead": lead, "unit": "mV",
                      "min_mv": None if all_nan else round(float(lo[i]), 4),
                      "max_mv": None if all_nan else round(float(hi[i]), 4),
                      "nan_samples": int(nan[i]), "all_nan": all_nan,
                      "flat": (not all_nan) and float(hi[i] - lo[i]) < FLAT_MV})
    events: dict[str, dict] = {}
    for ev in first.events:
        e = events.setdefault(ev.label, {"count": 0, "total_s": 0.0})
        e["count"] += 1
        e["total_s"] = round(e["total_s"] + ev.end_s - ev.start_s, 3)
    meta = first.metadata
    return {
        "path": str(path), "format": info.format, "fs": info.fs, "n_samples": info.n_samples,
        "duration_s": round(info.duration_s, 3),
        "start_time": info.start_time.isoformat() if info.start_time else None,
        "leads": leads, "dropped_leads": list(info.dropped_leads),
        "derived_leads": meta.get("derived_leads", []),
        "annotator": meta.get("annotator"),
        "annotations": dict(Counter(first.beats.symbol).most_common()) if first.beats is not None else {},
        "events": events, "diagnoses": list(first.diagnoses),
        "age": meta.get("age"), "sex": meta.get("sex"), "dtype": meta.get("dtype"),
        "comments": meta.get("comments", []), "notes": list(meta.get("notes", [])),
    }


def format_text(d: dict) -> str:
    timing = (f", {d['fs']:g} Hz, {d['n_samples']} samples ({format_clock(d['duration_s'])}, {d['duration_s']:g} s)"
              if d["fs"] else f", sampling rate unknown, {d['n_samples']} samples")
    lines = [f"{d['path']}: {d['format']}" + (f" ({d['dtype']})" if d["dtype"] else "") + timing
             + (f", start {d['start_time']}" if d["start_time"] else "")]
    for lead in d["leads"]:
        rng = "all NaN" if lead["all_nan"] else f"{lead['min_mv']:+.3f} .. {lead['max_mv']:+.3f} mV"
        flags = [f"{lead['nan_samples']} NaN"] if lead["nan_samples"] and not lead["all_nan"] else []
        flags += ["FLAT"] if lead["flat"] else []
        flags += ["derived"] if lead["lead"] in d["derived_leads"] else []
        lines.append(f"  {lead['raw']:>10} -> {lead['lead']:<4} {rng}" + (f"  [{', '.join(flags)}]" if flags else ""))
    if d["dropped_leads"]:
        lines.append(f"  dropped: {', '.join(d['dropped_leads'])}")
    bad = [x["lead"] for x in d["leads"] if x["all_nan"] or x["flat"]]
    lines.append(f"  NaN/flat leads: {', '.join(bad) if bad else 'none'}")
    if d["annotations"]:
        counts = ", ".join(f"{sym} {n}" for sym, n in d["annotations"].items())
        lines.append(f"  annotations ({d['annotator']}, {sum(d['annotations'].values())}): {counts}")
    if d["events"]:
        lines.append("  events: " + ", ".join(f"{label} x{e['count']} ({e['total_s']:g} s)"
                                              for label, e in d["events"].items()))
    if d["diagnoses"]:
        lines.append(f"  diagnoses: {'; '.join(d['diagnoses'])}")
    who = ", ".join(f"{k} {d[k]}" for k in ("age", "sex") if d[k] is not None)
    if who:
        lines.append(f"  patient: {who}")
    lines += [f"  # {c}" for c in d["comments"][:MAX_COMMENTS]]
    if len(d["comments"]) > MAX_COMMENTS:
        lines.append(f"  # ... {len(d['comments']) - MAX_COMMENTS} more comment lines (see --json)")
    lines += [f"  note: {n}" for n in d["notes"]]
    return "\n".join(lines)


def run_info(args: argparse.Namespace) -> int:
    results = [describe(f, lead_map=args.lead_map, fs=args.fs, drop_unknown=args.drop_unknown)
               for f in args.files]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print("\n".join(format_text(d) for d in results))
    return 0
