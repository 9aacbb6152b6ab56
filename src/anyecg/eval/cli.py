"""`anyecg eval TASK ...` and `anyecg baseline train|eval`."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

from anyecg.atomic import write_atomic
from anyecg.errors import ConfigError

# `anyecg eval findings --part NAME`: the machine read's checks. Each part is "module:function", the function
# taking (shared data folder: Path, command: str) and returning (results: dict, markdown: str); it writes
# docs/results/findings_NAME.md (the command at the top) and its JSON beside it.
FINDINGS_PARTS = {
    "delineation": "anyecg.eval.delineation:run_part",
    "rhythm": "anyecg.eval.rhythm:rhythm_part",
    "beats": "anyecg.eval.rhythm:beats_part",
    "statements": "anyecg.eval.statements:run_part",
}
log = logging.getLogger(__name__)


def _eval_localization(todo: list, predictor, args: argparse.Namespace) -> tuple[dict, str]:
    from anyecg.eval import harness

    return harness.eval_localization(todo, [predictor], args.out, batch_size=args.batch_size,
                                     ablations=_split(args.ablations))


def _eval_report(todo: list, predictor, args: argparse.Namespace) -> tuple[dict, str]:
    from anyecg.eval import harness

    return harness.eval_report(todo, predictor, args.out, label_sets=_split(args.label_sets),
                               scp_csv=args.scp_statements, text_encoder=args.text_encoder, batch_size=args.batch_size)


def _eval_ecgqa(todo: list, predictor, args: argparse.Namespace) -> tuple[dict, str]:
    from anyecg.eval import harness

    return harness.eval_ecgqa(todo, predictor, args.out, batch_size=args.batch_size)


def _eval_multiecg(todo: list, predictor, args: argparse.Namespace) -> tuple[dict, str]:
    from anyecg.eval import harness

    return harness.eval_multiecg(todo, predictor, args.out, judge_url=args.judge_url, judge_model=args.judge_model,
                                 batch_size=args.batch_size)


# The evaluable tasks (names of `anyecg.data.schema.TASKS`), in the order `anyecg eval all` runs them: a task's
# evaluation is a function (samples, predictor, CLI arguments) -> (results, Markdown section) registered here.
EVALUATORS = {"localization": _eval_localization, "report": _eval_report, "ecgqa": _eval_ecgqa,
              "multiecg": _eval_multiecg}


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate a model with the paper's protocols (tables beside the paper's)")
    p.add_argument("task", choices=(*EVALUATORS, "all", "findings", "questions"))
    who = p.add_mutually_exclusive_group()  # required for every task but findings (checked in run_eval)
    who.add_argument("--model", metavar="CHECKPOINT",
                     help="a checkpoint of the project's chat model (questions: also 'embedded')")
    who.add_argument("--endpoint", metavar="URL", help="an OpenAI-compatible server (http://host:port/v1)")
    who.add_argument("--unet", metavar="WEIGHTS", nargs="?", const="", help="the U-Net baseline (localization)")
    who.add_argument("--beat-classifier", metavar="WEIGHTS", nargs="?", const="",
                     help="perception alone: BeatEncoder head + the paper's rule, no LLM (localization)")
    who.add_argument("--findings", action="store_true",
                     help="the machine read alone, no LLM (read_findings of each ECG in its recording): localization "
                          "by the paper's rule, reports and comparisons naming its statements")
    p.add_argument("--endpoint-model", default="anyecg", help="model name sent to --endpoint")
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight to --endpoint")
    p.add_argument("--data", action="append", type=Path,
                   help="our JSONL (.jsonl) or an official test list (.json); repeatable (all tasks but findings)")
    p.add_argument("--data-root", type=Path, help="directory of the official lists' ecg_path (e.g. mitdb/)")
    p.add_argument("--roots", default="", help="SOURCE=DIR,... roots of our JSONL's SOURCE:REL paths")
    p.add_argument("--out", type=Path, help="output dir (predictions cache, report, plots); findings: "
                                           "the results folder (default docs/results)")
    p.add_argument("--references", default="findings,base",
                   help="questions: the references beside --model, any of findings,base (or 'none')")
    p.add_argument("--questions", type=Path, help="questions: the question set (default: the packaged questions_v2.jsonl)")
    p.add_argument("--results", type=Path, default=Path("docs/results/questions.md"),
                   help="questions: the Markdown report (a JSON beside it)")
    p.add_argument("--part", action="append", choices=sorted(FINDINGS_PARTS),
                   help="findings: the part(s) to check (default all)")
    p.add_argument("--shared-data", type=Path, default=Path("../shared/data"),
                   help="findings: the shared real-data folder")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-new-tokens", type=int, default=256, help="answer length limit for --model (paper: 256)")
    p.add_argument("--no-verify", action="store_true",
                   help="the model's greedy answers only (default: answers other than localizations verified "
                        "against the machine read, as `ask` and `report` do)")
    p.add_argument("--device", default="cpu", help="torch device of --model: cpu, cuda, cuda:1, mps")
    p.add_argument("--prescreen", action="store_true",
                   help="--model: answer a beat type the beat head does not find 'No ... Found' without the LLM "
                        "(what `anyecg locate` and `anyecg scan` do by default)")
    p.add_argument("--per-clip", action="store_true",
                   help="--model: ask about a localization window longer than 10 s clip by clip and merge the "
                        "answers (what `anyecg locate` does by default)")
    p.add_argument("--limit", type=int, help="only the first N samples per task (questions: per question type)")
    p.add_argument("--ablations", default="", help="lead masking: any of first,second,random")
    p.add_argument("--label-sets", default="ptbxl_super,ptbxl_sub,ptbxl_form,ptbxl_rhythm,cpsc2018,csn")
    p.add_argument("--scp-statements", type=Path, help="PTB-XL scp_statements.csv")
    p.add_argument("--text-encoder", help="sentence-transformers model dir (default: MiniLM package)")
    p.add_argument("--judge-url", help="OpenAI-compatible judge for multiecg (without it: findings named per ECG "
                                       "against the labels)")
    p.add_argument("--judge-model", default="judge")
    p.set_defaults(func=run_eval)

    b = sub.add_parser("baseline", help="the supervised U-Net localization baseline")
    bsub = b.add_subparsers(dest="baseline_command", required=True)
    t = bsub.add_parser("train", help="train on MIT-BIH DS1 (CPU, minutes)")
    t.add_argument("--mitdb", type=Path, required=True, help="MIT-BIH Arrhythmia directory")
    t.add_argument("--out", type=Path, help="weights file (default: the packaged weights path)")
    t.add_argument("--minutes", type=float, default=8.0)
    t.add_argument("--seed", type=int, default=0)
    t.set_defaults(func=run_baseline_train)
    e = bsub.add_parser("eval", help="U-Net + trivial references on MIT-BIH DS2 windows (10 s and 10-60 s)")
    e.add_argument("--mitdb", type=Path, required=True)
    e.add_argument("--weights", type=Path, help="U-Net weights (default: packaged)")
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--n-pos", type=int, default=6, help="positive windows per record and present type")
    e.add_argument("--n-neg", type=int, default=2, help="negative windows per record")
    e.add_argument("--ablations", default="first,second,random")
    e.add_argument("--batch-size", type=int, default=16)
    e.add_argument("--markdown", type=Path, help="also write the Markdown report here")
    e.set_defaults(func=run_baseline_eval)


def _command() -> str:
    return "anyecg " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _split(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _predictor(args: argparse.Namespace):
    from anyecg.eval.predictors import (
        BeatClassifierPredictor,
        EndpointPredictor,
        FindingsPredictor,
        LocalModelPredictor,
    )
    from anyecg.eval.unet import WEIGHTS, UNetPredictor

    if args.endpoint:
        return EndpointPredictor(args.endpoint, args.endpoint_model, concurrency=args.concurrency)
    if args.unet is not None:
        return UNetPredictor(args.unet or WEIGHTS)
    if args.beat_classifier is not None:
        return BeatClassifierPredictor(args.beat_classifier or None)
    if args.findings:
        return FindingsPredictor()
    return LocalModelPredictor(args.model, max_new_tokens=args.max_new_tokens, device=args.device,
                               prescreen=args.prescreen, per_clip=args.per_clip, verify=not args.no_verify)


def _write_report(out: Path, title: str, sections: list[str], results: dict) -> Path:
    from anyecg.eval.render import write_json

    write_json(out / "report.json", {"command": _command(), **results})
    md = out / "report.md"
    write_atomic(md, "\n".join([f"# {title}", "", "Made by:", "", "```", _command(), "```", "", *sections]))
    print(f"report: {md}")
    return md


def run_findings(args: argparse.Namespace) -> int:
    """`anyecg eval findings [--part NAME ...]`: the checks of the machine read on the shared real data, each as
    Markdown and JSON in --out (default docs/results)."""
    import importlib

    from anyecg.eval.render import write_json

    if not args.shared_data.is_dir():
        raise ConfigError("shared data folder not found (give --shared-data)", args.shared_data)
    out = args.out or Path("docs/results")
    for part in args.part or list(FINDINGS_PARTS):
        module, func = FINDINGS_PARTS[part].split(":")
        result, md = getattr(importlib.import_module(module), func)(args.shared_data, _command())
        write_atomic(out / f"findings_{part}.md", md.rstrip() + "\n")
        write_json(out / f"findings_{part}.json", {"command": _command(), **result})
        print(f"report: {out / f'findings_{part}.md'}")
    return 0


def run_questions(args: argparse.Namespace) -> int:
    from anyecg.atomic import write_atomic
    from anyecg.eval.questions import answerers, report
    from anyecg.eval.render import write_json

    samples = report.load_questions(args.questions, args.shared_data, args.limit)
    refs = [r for r in _split(args.references) if r != "none"]
    unknown = set(refs) - {"findings", "base"}
    if unknown:
        raise ConfigError(f"unknown reference(s) {', '.join(sorted(unknown))}: use findings, base or none")
    cache = answerers.FindingsCache()
    predictors = ([answerers.FindingsAnswerer(cache)] if "findings" in refs else []) + \
        ([answerers.BaseLLMAnswerer(max_new_tokens=args.max_new_tokens)] if "base" in refs else []) + \
        ([answerers.ChatAnswerer(args.model, args.max_new_tokens, args.device, verify=not args.no_verify)]
         if args.model else [])
    if not predictors:
        raise ConfigError("eval questions needs --model and/or --references")
    results = report.evaluate(samples, predictors, args.out or Path("runs/questions"), batch_size=args.batch_size,
                              cache=cache)
    write_atomic(args.results, report.markdown(results, _command(), len(samples), cache.failed,
                                                       limit=args.limit, split=report.split_of(args.questions),
                                                       **({"source": str(args.questions)} if args.questions else {})))
    write_json(args.results.with_suffix(".json"), {"command": _command(), "questions": len(samples),
                                                   "failed_reads": cache.failed, **results})
    print(f"report: {args.results}")
    return 0


def _progress_log(fmt: str) -> None:
    """Our own progress lines at INFO; other libraries' only from WARNING (no "Loading model from ..." noise)."""
    logging.basicConfig(level=logging.WARNING, format=fmt)
    logging.getLogger("anyecg").setLevel(logging.INFO)


def run_eval(args: argparse.Namespace) -> int:
    from anyecg.eval.samples import load_samples

    _progress_log("%(message)s")
    if args.task == "findings":
        return run_findings(args)
    if args.task == "questions":
        return run_questions(args)
    if not (args.model or args.endpoint or args.unet is not None or args.beat_classifier is not None or
            args.findings):
        raise ConfigError("eval needs one of --model, --endpoint, --unet, --beat-classifier, --findings")
    if not args.data or args.out is None:
        raise ConfigError(f"eval {args.task} needs --data and --out")
    roots = dict(kv.split("=", 1) for kv in _split(args.roots))
    samples = [s for path in args.data for s in load_samples(path, data_root=args.data_root, roots=roots)]
    tasks = tuple(EVALUATORS) if args.task == "all" else (args.task,)
    predictor = _predictor(args)
    sections, results = [], {}
    for task in tasks:
        todo = [s for s in samples if s.task == task][: args.limit]
        if not todo:
            if args.task != "all":
                raise ConfigError(f"no {task} samples in {', '.join(map(str, args.data))}")
            continue
        res, md = EVALUATORS[task](todo, predictor, args)
        results[task] = res
        sections.append(md)
    _write_report(args.out, f"anyecg eval {args.task}: {predictor.name}", sections, results)
    return 0


def run_baseline_train(args: argparse.Namespace) -> int:
    from anyecg.eval.unet import WEIGHTS, train_unet

    _progress_log("%(asctime)s %(message)s")
    result = train_unet(args.mitdb, args.out or WEIGHTS, minutes=args.minutes, seed=args.seed, command=_command())
    print(f"trained {result['steps']} steps ({result['epochs']} epochs, {result['windows']} windows) "
          f"in {result['seconds']} s → {args.out or WEIGHTS}")
    return 0


def run_baseline_eval(args: argparse.Namespace) -> int:
    from anyecg.data.schema import write_jsonl
    from anyecg.eval import harness
    from anyecg.eval.unet import WEIGHTS, UNetPredictor
    from anyecg.eval.windows import DS2, record_windows

    _progress_log("%(message)s")
    raw = [s for long in (False, True) for r in DS2
           for s in record_windows(args.mitdb / r, long=long, n_pos=args.n_pos, n_neg=args.n_neg)]
    write_jsonl(args.out / "mitdb_ds2_windows.jsonl", raw)
    from anyecg.eval.samples import from_sample

    samples = [from_sample(s, {}) for s in raw]
    tables, md = harness.eval_localization(samples, [UNetPredictor(args.weights or WEIGHTS)], args.out,
                                           batch_size=args.batch_size, ablations=_split(args.ablations))
    intro = (f"{len(samples)} windows of MIT-BIH Arrhythmia DS2 records ({', '.join(DS2)}), generated by "
             "`anyecg.eval.windows.record_windows` (labels: `anyecg.signal.intervals.beat_intervals`); the "
             "U-Net was trained on DS1 only. Windows: `mitdb_ds2_windows.jsonl` beside the report.\n")
    path = _write_report(args.out, "Localization on MIT-BIH DS2: U-Net baseline and trivial references",
                         [intro, md], {"localization": tables})
    if args.markdown:
        write_atomic(args.markdown, path.read_text())
    return 0
