"""`anyecg chat | report | locate | scan`: the model from the command line (thin shell over `ECGChat`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anyecg.errors import AnyECGError, LeadError, WindowError
from anyecg.leads import ANY, DROP, canonical_lead
from anyecg.targets import DEFAULT_SCAN, SCAN_ENGINES, SCAN_SCREENS
from anyecg.timebase import DEFAULT_WINDOW_S, MAX_WINDOW_S

if TYPE_CHECKING:
    from anyecg.checks import Check


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="checkpoint directory (default: the embedded model)")
    p.add_argument("--lead-map", default=None, help="rename or drop channels, e.g. 'ECG1=II,Resp=-'")
    p.add_argument("--fs", type=float, default=None, help="sampling rate for files without one (.npy, CSV)")
    p.add_argument("--leads", default=None, help="keep only these leads, e.g. 'II,V1' (other channels, ECG or "
                                                 "not, are dropped)")
    p.add_argument("--drop-unknown", "--ecg-only", action="store_true", dest="drop_unknown",
                   help="drop channels that fit no ECG lead (ART, Resp, Pleth, ...) instead of stopping")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--no-verify", action="store_true",
                   help="keep the model's first answer even where the signal contradicts it (flagged, not replaced by an alternative that agrees)")
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1, mps")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _prescreen_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-prescreen", action="store_true",
                   help="ask the LLM about every beat type (default: a beat type that the beat encoder's classifier "
                        "does not find in the window is answered 'No ... Found' without the LLM)")


def _window_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--start", type=_seconds, default=None,
                   help="window start, seconds from the recording start; one per FILE, comma-separated, to give "
                        "each its own window (the same FILE twice compares two windows of it)")
    p.add_argument("--end", type=_seconds, default=None, help="window end, seconds from the recording start; "
                                                              "one per FILE as --start")


def _seconds(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not seconds (or a comma list of them): {text!r}") from None


def _spans(args: argparse.Namespace) -> list[tuple[float | None, float | None]]:
    """(start, end) per FILE: --start/--end hold one value for all files or one per file."""
    n = len(args.files)
    out = []
    for name in ("start", "end"):
        value = getattr(args, name, None)
        values = value if isinstance(value, list) else [value]
        if len(values) not in (1, n):
            raise AnyECGError(f"--{name} gives {len(values)} values for {n} files: give one, or one per file")
        out.append(values * n if len(values) == 1 else values)
    return list(zip(*out, strict=True))


def _load(args: argparse.Namespace):
    """The model, once the arguments have been checked (errors in them should not wait for a ~10 s load)."""
    from anyecg.chat import ECGChat

    _check_inputs(args)
    return ECGChat.load(args.model, device=args.device, max_new_tokens=args.max_new_tokens,
                        verify=not args.no_verify)


def _lead_map(args: argparse.Namespace) -> str | None:
    """--lead-map, plus `*=-` (drop what fits no lead) with --drop-unknown or --leads."""
    if not (args.drop_unknown or args.leads):
        return args.lead_map
    return ",".join(x for x in (args.lead_map, f"{ANY}={DROP}") if x)


def _leads(args: argparse.Namespace) -> tuple[str, ...] | None:
    return tuple(x.strip() for x in args.leads.split(",") if x.strip()) if args.leads else None


def _check_inputs(args: argparse.Namespace) -> None:
    """Files, channels, window, leads and targets, checked as the model would (raises AnyECGError)."""
    whole_window = args.func in (cmd_chat, cmd_report) or getattr(args, "whole_window", False)
    from anyecg.io import read_info, read_record
    from anyecg.targets import resolve_target

    if getattr(args, "what", None):
        for target in args.what.split(","):
            resolve_target(target)
    for f, (start, end) in zip(args.files, _spans(args), strict=True):
        info = read_info(f, lead_map=_lead_map(args), fs=args.fs)
        for note in info.notes:  # what the reader assumed or left out (an 'ECG' channel taken as lead I, ...)
            print(f"anyecg: note: {f}: {note}", file=sys.stderr)
        if start is not None or end is not None:
            read_record(f, lead_map=_lead_map(args), fs=args.fs, start_s=start, end_s=end, annotations=False)
        span = min(end if end is not None else info.duration_s, info.duration_s) - (start or 0.0)
        if whole_window and span > MAX_WINDOW_S:
            raise WindowError(f"a {span:.0f} s window is too long to ask about at once (at most {MAX_WINDOW_S:g} s); "
                              "choose one with --start/--end, or use `anyecg scan` for the whole recording", f)
        missing = [lead for lead in _leads(args) or () if canonical_lead(lead) not in info.leads]
        if missing:
            raise LeadError(f"--leads {', '.join(missing)}: not in this record (it has {', '.join(info.leads)})", f)


def _ecgs(args: argparse.Namespace) -> list:
    from anyecg.chat import ECG

    return [ECG(Path(f), start, end, _leads(args), _lead_map(args), args.fs)
            for f, (start, end) in zip(args.files, _spans(args), strict=True)]


def _print(args: argparse.Namespace, data: dict[str, Any], text: str, checks: Sequence[Check] = ()) -> None:
    """The answer on stdout (JSON with --json); each claim the signal contradicts as a one-line warning on
    stderr."""
    print(json.dumps(data, indent=2) if args.json else text)
    _warn(checks)


def _warn(checks: Sequence[Check]) -> None:
    for c in checks:
        if not c.agrees:
            print(f"anyecg: warning: {c.line()}", file=sys.stderr)


def cmd_chat(args: argparse.Namespace) -> int:
    args.files, args.question = split_question(args.files)
    chat = _load(args)
    conv = chat.conversation(_ecgs(args))
    if args.question is not None:
        answer = conv.ask(args.question)
        _print(args, answer.to_dict(), answer.text, answer.checks)
        return 0
    if args.json:
        raise AnyECGError("--json needs a question (the interactive session prints plain text)")
    print(f"anyecg chat: {len(args.files)} ECG(s) loaded. Ask a question; an empty line or Ctrl-D ends.")
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        print("anyecg> ", end="", flush=True)
        for piece in conv.stream(question):
            print(piece, end="", flush=True)
        print()
        _warn(chat.check(conv.history[-1]["content"], conv.prepared, question))


def cmd_report(args: argparse.Namespace) -> int:
    chat = _load(args)
    answers = chat.report_batch(_ecgs(args))
    data = {"reports": [{"file": f, "report": a.text, "checks": [c.to_dict() for c in a.checks]}
                        for f, a in zip(args.files, answers, strict=True)]}
    _print(args, data, "\n".join(f"{f}: {a.text}" for f, a in zip(args.files, answers, strict=True)),
           [c for a in answers for c in a.checks])
    return 0


def cmd_locate(args: argparse.Namespace) -> int:
    if args.engine == "findings":
        from anyecg.chat import locate_from_findings

        _check_inputs(args)
        loc = locate_from_findings(_ecgs(args)[0], args.what)
    else:
        chat = _load(args)
        loc = chat.locate(_ecgs(args)[0], args.what, prescreen=not args.no_prescreen,
                          per_clip=False if args.whole_window else None)
    lines = [loc.text] + [f"  {f.start_s:.1f}s-{f.end_s:.1f}s  ({f.clock_start} - {f.clock_end})"
                          for f in loc.findings]
    _print(args, {"file": args.files[0], **loc.to_dict()}, "\n".join(lines), loc.checks)
    return 0


def _scan_span(args: argparse.Namespace) -> None:
    """--start/--end given as seconds or clock times → seconds from the recording start (in place)."""
    from anyecg.io import read_info
    from anyecg.timebase import parse_time

    if args.start is None and args.end is None:
        return
    start_time = read_info(args.files[0], lead_map=_lead_map(args), fs=args.fs).start_time
    for name in ("start", "end"):
        value = getattr(args, name)
        if value is not None:
            try:
                setattr(args, name, parse_time(value, start_time))
            except ValueError as err:
                raise AnyECGError(f"--{name}: {err}") from None


def cmd_scan(args: argparse.Namespace) -> int:
    from anyecg.scan import scan

    if not 10.0 <= args.window <= 600.0 or not 0.0 <= args.overlap < args.window:
        raise AnyECGError(f"--window must be 10-600 s and --overlap ≥ 0 and shorter than it (got {args.window:g} "
                          f"and {args.overlap:g})")
    _scan_span(args)
    model_narrative = args.narrative == "model" or (args.narrative == "auto" and args.engine != "findings")
    if args.narrative == "model" and args.out is None:
        raise AnyECGError("--narrative model writes the Holter report's summary: give --out")
    if args.engine == "findings" and not model_narrative:
        _check_inputs(args)
        chat = None
    else:
        chat = _load(args)
    result = scan(chat, args.files[0], targets=[t.strip() for t in args.what.split(",")], engine=args.engine,
                  start_s=args.start, end_s=args.end, window_s=args.window, overlap_s=args.overlap,
                  batch_size=args.batch_size, leads=_leads(args), lead_map=_lead_map(args), fs=args.fs,
                  progress=not args.json and sys.stderr.isatty(), prescreen=not args.no_prescreen,
                  screen=args.screen)
    out = Path(args.out) if args.out else None
    if out is not None:
        result.write_all(out, args.files[0], {"lead_map": _lead_map(args), "fs": args.fs},
                         write=chat.write_text if chat is not None and model_narrative else None)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    d = result.to_dict()
    how = (f"{d['questions']} questions to the LLM ({d['prescreened'] + d['from_read']} answered from the findings)"
           if result.engine == "llm" else "the machine read, no model")
    print(f"{args.files[0]}: {d['duration_s']:.0f} s of ECG from {result.clock(result.start_s)}, {d['n_beats']} "
          f"beats, engine {d['engine']}: {how}, {d['elapsed_s']} s ({d['speed_x_realtime']}x real time)")
    for note in d["notes"]:
        print(f"  note: {note}")
    for row in d["summary"]:
        print(f"  {row['target']:11} {row['description'][:40]:40} episodes {row['episodes']:5}  burden "
              f"{row['burden_pct']:6.2f}%  longest {row['longest_s']:.1f} s {row['longest_at']}")
    for row in d["summary"]:  # episodes grouped by target, in time order within each
        eps = [e for e in d["episodes"] if e["target"] == row["target"]]
        if eps:
            print(f"  {row['target']} {row['description']}:")
        for e in eps[: args.show]:
            print(f"    {e['start']} - {e['end']}")
        if len(eps) > args.show:
            print(f"    ... {len(eps) - args.show} more (see --out or --json)")
    if out is not None:
        print(f"wrote {out}/{Path(args.files[0]).name}.scan.{{json,csv,png,html}} and {out}/holter.{{json,html}}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="ask about one or several ECGs (interactive without a question)")
    p.add_argument("files", nargs="+", metavar="FILE", help="ECG file(s), then optionally the question in quotes "
                                                            "(options may come between them)")
    _model_args(p)
    _window_args(p)
    p.set_defaults(func=cmd_chat, trailing_args=True)

    p = sub.add_parser("report", help="write the report for each ECG")
    p.add_argument("files", nargs="+", metavar="FILE")
    _model_args(p)
    _window_args(p)
    p.set_defaults(func=cmd_report, trailing_args=True)

    p = sub.add_parser("locate", help="where does a beat type / rhythm occur (e.g. --what V)")
    p.add_argument("files", nargs=1, metavar="FILE")
    p.add_argument("--what", required=True, help="WFDB symbol (V, A, L, R, ...), a name (PVC) or a rhythm (AFIB)")
    p.add_argument("--whole-window", action="store_true",
                   help="ask about a window longer than 10 s at once (default with a beat-mode model such as the "
                        "embedded one: clip by clip, findings merged)")
    p.add_argument("--engine", choices=SCAN_ENGINES, default="llm",
                   help="llm (default): the model answers, as chat and the server do; findings: the machine read "
                        "localizes (the window read in its recording, the paper's interval rule), no model")
    _prescreen_arg(p)
    _model_args(p)
    _window_args(p)
    p.set_defaults(func=cmd_locate)

    p = sub.add_parser("scan", help="find abnormal segments in a long recording (minutes to days)")
    p.add_argument("files", nargs=1, metavar="FILE")
    p.add_argument("--what", default=",".join(DEFAULT_SCAN), help=f"comma-separated targets (default: {','.join(DEFAULT_SCAN)})")
    p.add_argument("--window", type=float, default=DEFAULT_WINDOW_S,
                   help=f"window length in seconds (10-600, default {DEFAULT_WINDOW_S:g})")
    p.add_argument("--overlap", type=float, default=0.0, help="overlap of consecutive windows in seconds")
    p.add_argument("--batch-size", type=int, default=8, help="questions per batched generation")
    p.add_argument("--engine", choices=SCAN_ENGINES, default=SCAN_ENGINES[0],
                   help="findings (default): the machine read localizes beats and episodes, no model (thousands x "
                        "real time; more accurate than the LLM on held-out MIT-BIH, docs/results/scan_ds2.md); "
                        "llm: the model localizes beat types in each window where the machine read finds them (the "
                        "paper's way)")
    p.add_argument("--screen", choices=SCAN_SCREENS, default="auto",
                   help="--engine llm: which windows the LLM is asked about. auto: where the model's beat head (else "
                        "the machine read) finds the type; findings: where the read does; head: where the head does; "
                        "agree: only where the head and the read disagree (where both find it, the read's intervals)")
    p.add_argument("--start", default=None, help="scan from here: seconds or a clock time hh:mm[:ss]")
    p.add_argument("--end", default=None, help="scan up to here: seconds or a clock time hh:mm[:ss]")
    p.add_argument("--out", default=None,
                   help="folder for <file>.scan.{json,csv,png,html} and the Holter report holter.{json,html}")
    p.add_argument("--show", type=int, default=20, help="episodes listed per type on the terminal")
    p.add_argument("--narrative", choices=("auto", "template", "model"), default="auto",
                   help="the Holter report's summary paragraph: the template's, or the model's rewording of it, kept "
                        "only when its numbers and findings check against the summary (auto: model with --engine "
                        "llm, template with --engine findings)")
    _prescreen_arg(p)
    _model_args(p)
    p.set_defaults(func=cmd_scan)


def split_question(files: list[str]) -> tuple[list[str], str | None]:
    """`anyecg chat a.hea b.hea "question"`: the last argument is the question when it names no file."""
    if len(files) > 1 and not _looks_like_ecg(files[-1]):
        return files[:-1], files[-1]
    if len(files) == 1 and not _looks_like_ecg(files[0]) and " " in files[0]:
        raise AnyECGError("no ECG file given before the question")
    return files, None


def _looks_like_ecg(arg: str) -> bool:
    if not arg.strip():
        return False
    p = Path(arg)
    return p.exists() or p.with_suffix(".hea").exists() or Path(arg + ".hea").exists()
