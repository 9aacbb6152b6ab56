"""`anyecg plot FILE --start S --end S --out x.png`: draw a window of an ECG on ECG paper."""

from __future__ import annotations

import argparse
from pathlib import Path

from anyecg.errors import AnyECGError

DEFAULT_PLOT_S = 10.0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plot", help="draw an ECG window on ECG paper (PNG/SVG/PDF)",
        description="Draw the leads of an ECG window on ECG paper (25 mm/s, 10 mm/mV) with its beat "
                    "annotations and optional highlighted intervals.",
    )
    p.add_argument("file", help="ECG file (a WFDB record may be named without extension)")
    p.add_argument("--start", type=float, default=0.0, help="window start, seconds from the recording start")
    p.add_argument("--end", type=float, default=None,
                   help=f"window end, seconds (default: start + {DEFAULT_PLOT_S:g} s, or the record end)")
    p.add_argument("--out", type=Path, default=None, help="output image (default: <record name>.png)")
    p.add_argument("--leads", default=None, help="comma-separated leads to draw, e.g. II,V1 (default: all)")
    p.add_argument("--highlight", default=None,
                   help="intervals to highlight, seconds from the window start: '1.9-3.1,6.8-8.1' "
                        "or a localization answer 'Duration: 1.9s-3.1s'")
    p.add_argument("--measure", action="store_true",
                   help="mark the machine read: global P, QRS and T onsets/offsets per beat, and rhythm episodes")
    p.add_argument("--lead-map", default=None, help="rename or drop channels: 'ECG A=II,Resp=-'")
    p.add_argument("--fs", type=float, default=None, help="sampling rate, for files that do not store one")
    p.set_defaults(func=run_plot)


def run_plot(args: argparse.Namespace) -> int:
    from anyecg.io import read_info, read_record
    from anyecg.signal.intervals import parse_answer
    from anyecg.signal.plot import plot_record

    highlight = parse_answer(args.highlight) if args.highlight else []
    out = args.out or Path(Path(args.file).name).with_suffix(".png")
    if not out.parent.is_dir():
        raise AnyECGError("output folder does not exist", out.parent)
    end = args.end
    if end is None:
        end = min(args.start + DEFAULT_PLOT_S, read_info(args.file, lead_map=args.lead_map, fs=args.fs).duration_s)
    record = read_record(args.file, lead_map=args.lead_map, fs=args.fs, start_s=args.start, end_s=end)
    leads = [x.strip() for x in args.leads.split(",") if x.strip()] if args.leads else None
    marks, spans = _measure_marks(args, end) if args.measure else ([], [])
    plot_record(record, out, start_s=args.start, end_s=end, leads=leads, highlight=highlight, marks=marks,
                spans=spans)
    print(out)
    return 0


def _measure_marks(args: argparse.Namespace, end: float | None) -> tuple[list, list]:
    """The findings' waves and episodes of the plotted window as plot marks, read as `anyecg measure` reads it
    (rhythm in the context of the recording; the CLI path may use findings, signal/plot does not)."""
    from anyecg.findings.marks import plot_marks
    from anyecg.findings.read import read_file_findings

    return plot_marks(read_file_findings(args.file, start_s=args.start, end_s=end, lead_map=args.lead_map, fs=args.fs))
