"""`anyecg data build --source mitdb=DIR ... --out OUT`."""

from __future__ import annotations

import argparse
from pathlib import Path

from anyecg.data.build import BUILD_TASKS, BuildContext, build
from anyecg.data.sources.registry import SOURCES
from anyecg.data.tasks.localization import LocalizationOptions
from anyecg.errors import DataBuildError


def _source(spec: str) -> tuple[str, Path]:
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--source {spec!r}: expected NAME=DIR, NAME one of {', '.join(SOURCES)}")
    return name.strip(), Path(path)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="build training / test data from public ECG databases")
    dsub = p.add_subparsers(dest="data_command", required=True)
    b = dsub.add_parser("build", help="JSONL per task and split, manifest.json and a data card",
                        description=f"sources: {', '.join(SOURCES)}")
    b.add_argument("--source", action="append", type=_source, required=True, metavar="NAME=DIR",
                   help="a downloaded database (repeatable), e.g. mitdb=~/physionet/mitdb")
    b.add_argument("--out", type=Path, required=True, help="output folder (resumable: rerun to continue)")
    b.add_argument("--tasks", default=",".join(BUILD_TASKS), help=f"comma list of {', '.join(BUILD_TASKS)}")
    b.add_argument("--workers", type=int, default=1, help="processes")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--fresh", action="store_true", help="discard shards of an earlier build in --out")
    b.add_argument("--max-pos", type=int, default=20, help="localization positives per record, target and window")
    b.add_argument("--report-windows", type=int, default=10, help="report windows per beat-annotated record")
    b.add_argument("--no-episodes", action="store_true", help="no rhythm / ST episode localization targets")
    b.add_argument("--no-balance", action="store_true", help="keep every localization window (no class cap)")
    b.add_argument("--ecgqa-variant", choices=("paraphrased", "template", "both"), default="paraphrased")
    b.add_argument("--ecgqa-fraction", type=float, default=1.0, help="keep this fraction (paper: 0.1)")
    b.add_argument("--llm-url", help="OpenAI-compatible endpoint (…/v1) to rewrite MultiECG Q/A; cached")
    b.add_argument("--llm-model", default="default", help="model name sent to --llm-url")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    sources = dict(args.source)
    if len(sources) != len(args.source):
        raise DataBuildError("a source is given twice")
    if not 0 < args.ecgqa_fraction <= 1:
        raise DataBuildError(f"--ecgqa-fraction must be in (0, 1], got {args.ecgqa_fraction}")
    tasks = tuple(t.strip() for t in args.tasks.split(",") if t.strip())
    ctx = BuildContext(seed=args.seed, localization=LocalizationOptions(max_pos=args.max_pos,
                                                                        episodes=not args.no_episodes),
                       report_windows=args.report_windows, ecgqa_variant=args.ecgqa_variant,
                       ecgqa_fraction=args.ecgqa_fraction, balance=not args.no_balance,
                       llm_url=args.llm_url, llm_model=args.llm_model)
    manifest = build(sources, args.out, tasks=tasks, ctx=ctx, workers=args.workers, progress=not args.quiet,
                     fresh=args.fresh)
    for name, n in manifest["files"].items():
        print(f"{args.out / name}: {n} samples")
    print(f"{manifest['skipped']['count']} records skipped; manifest and data card in {args.out}")
    return 0
