"""`anyecg measure FILE`: the machine read of an ECG, printed like a cart's (or as JSON)."""

from __future__ import annotations

import argparse
import json

from anyecg.findings.types import EPISODE_KINDS, ECGFindings


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "measure", help="measure an ECG like an ECG machine: rate, PR, QRS, QT/QTc, axes, statements",
        description="The machine read of an ECG (or of the window --start..--end): heart rate and RR statistics, "
                    "P duration, PR, QRS, QT and QTc, frontal axes, then statements and rhythm episodes.")
    p.add_argument("file", metavar="FILE", help="ECG file (a WFDB record may be named without extension)")
    p.add_argument("--start", type=float, default=None, help="window start, seconds from the recording start")
    p.add_argument("--end", type=float, default=None, help="window end, seconds from the recording start")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.add_argument("--lead-map", default=None, help="rename or drop channels: 'ECG=II,Resp=-'")
    p.add_argument("--fs", type=float, default=None, help="sampling rate, for files that do not store one")
    p.set_defaults(func=run_measure)


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f}"


def format_read(f: ECGFindings) -> str:
    """A cart-style machine read: rate and intervals, axes, then statements, episodes and notes."""
    m = f.measurements
    lines = [f"{f.source or 'ECG'}: {f.duration_s:.1f} s from {f.start_s:g} s, {len(f.leads)} leads, {f.fs:g} Hz, "
             f"{f.n_beats} beats" + ("" if f.lead_positions_known else "  [lead positions unknown]")]
    rr = "" if m.rr_mean_ms is None else f"   RR {m.rr_mean_ms:.0f}" + (
        "" if m.rr_sd_ms is None else f" ± {m.rr_sd_ms:.0f} ms (CV {m.rr_cv:.2f}, pNN50 {100 * m.pnn50:.0f} %)")
    rows = [
        ("Vent. rate", f"{_ms(m.heart_rate_bpm)} bpm{rr}"),
        ("P duration", f"{_ms(m.p_ms)} ms"),
        ("PR interval", f"{_ms(m.pr_ms)} ms"),
        ("QRS duration", f"{_ms(m.qrs_ms)} ms"),
        ("QT / QTc", f"{_ms(m.qt_ms)} / {_ms(m.qtc_bazett_ms)} ms (Bazett), {_ms(m.qtc_fridericia_ms)} ms "
                     "(Fridericia)"),
        ("P-R-T axes", " ".join(_ms(a) for a in (m.p_axis_deg, m.qrs_axis_deg, m.t_axis_deg)) + " °"),
    ]
    lines += [f"  {name:<13} {value}" for name, value in rows]
    low = [g for g, flag in (("limb", m.low_voltage_limb), ("precordial", m.low_voltage_precordial)) if flag]
    if low:
        lines.append(f"  Low voltage   {', '.join(low)} leads")
    if f.statements:
        lines.append("Statements:")
        lines += [f"  {s.name} ({s.confidence:.2f})" + (f": {s.evidence.reason}" if s.evidence.reason else "")
                  for s in f.statements]
    if f.episodes:
        lines.append("Episodes:")
        lines += [f"  {EPISODE_KINDS.get(e.kind, e.kind)}: {e.start_s:.1f}-{e.end_s:.1f} s" for e in f.episodes]
    if f.notes:
        lines.append("Notes:")
        lines += [f"  {n}" for n in f.notes]
    return "\n".join(lines)


def run_measure(args: argparse.Namespace) -> int:
    from anyecg.findings.read import read_file_findings

    findings = read_file_findings(args.file, start_s=args.start, end_s=args.end, lead_map=args.lead_map, fs=args.fs)
    print(json.dumps(findings.to_dict(), indent=2) if args.json else format_read(findings))
    return 0
