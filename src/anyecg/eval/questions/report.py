"""`anyecg eval questions`: answer the question set with a model and the references, grade, check, report.

References: (a) the base LLM with the same question and no ECG, (b) the chat model under test (e.g. the shipped
release), (c) the findings-only answerer. For each, the share of answers that `anyecg.checks` flags (a claim that
disagrees with the findings of the same ECG) and how often a flag was right (the grader found the answer wrong).
Comparisons of two ECGs are checked against both reads (`anyecg.checks.check_comparison`).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from pathlib import Path

from anyecg.checks import check_answer, check_comparison, localization_check
from anyecg.data.question_truth import roots
from anyecg.data.questions import QTYPES
from anyecg.eval.questions.build import QUESTIONS_FILE
from anyecg.eval.questions.grade import accuracy_table, grade
from anyecg.eval.runner import run_predictions
from anyecg.eval.samples import EvalSample, load_samples
from anyecg.findings.answers import FindingsCache
from anyecg.signal.intervals import describe

log = logging.getLogger(__name__)


RECORDS = {"test": "held-out records only: CPSC2018 A0101-A0150, PTB-XL strat_fold 9, LUDB 121-160, MIT-BIH DS2 "
                   "10 s windows",
           "valid": "a tuning set of training records: CPSC2018 A0001-A0100, PTB-XL strat_folds 1-8, LUDB 1-120, "
                  "MIT-BIH DS1 10 s windows; optimistic, the classifiers were trained on them"}


def split_of(path: Path | None) -> str:
    """The split ("test" or "valid") a question file was built for (`anyecg.eval.questions.build --split`)."""
    with open(path or QUESTIONS_FILE, encoding="utf-8") as f:
        return json.loads(f.readline() or "{}").get("split", "test")


def load_questions(path: Path | None, shared: Path, limit: int | None = None) -> list[EvalSample]:
    """The question set with its ECG references resolved under the shared data folder; `limit`: at most N
    questions of every type, taken in turn from each dataset (so that a short run still covers every type and
    dataset), in file order."""
    samples = load_samples(path or QUESTIONS_FILE, roots=roots(shared))
    if limit is None:
        return samples
    queues: dict[str, dict[str, list[EvalSample]]] = {}
    for s in samples:
        queues.setdefault(s.meta["qtype"], {}).setdefault(s.dataset, []).append(s)
    keep: set[str] = set()
    for by_dataset in queues.values():
        taken = 0
        while taken < limit and any(by_dataset.values()):
            for q in by_dataset.values():
                if q and taken < limit:
                    keep.add(q.pop(0).id)
                    taken += 1
    return [s for s in samples if s.id in keep]


def flag_of(sample: EvalSample, answer: str, cache: FindingsCache) -> bool | None:
    """Whether the checks flag the answer (a claim disagrees with the findings); None when nothing was checked."""
    reads = [cache.get(r.path, r.start_s, r.end_s) for r in sample.ecgs]
    if len(reads) > 1:
        checks = check_comparison(answer, reads)
        return None if not checks else any(not c.agrees for c in checks)
    f = reads[0]
    checks = check_answer(answer, f)
    if sample.meta["qtype"] == "localization":
        k = sample.meta["truth"]["abnormal_type"]
        loc = localization_check(answer, f, k, describe(k))
        checks += [loc] if loc is not None else []
    return None if not checks else any(not c.agrees for c in checks)


def flag_summary(correct: Sequence[bool], flags: Sequence[bool | None]) -> dict:
    pairs = list(zip(correct, flags, strict=True))
    checked = [(c, fl) for c, fl in pairs if fl is not None]
    flagged = [c for c, fl in checked if fl]
    wrong = [fl for c, fl in pairs if not c]
    n = len(pairs)
    return {"answers": n, "checked": len(checked) / n if n else math.nan,
            "flagged": len(flagged) / n if n else math.nan,
            "flag_right": sum(not c for c in flagged) / len(flagged) if flagged else math.nan,
            "wrong_flagged": sum(bool(fl) for fl in wrong) / len(wrong) if wrong else math.nan}


def evaluate(samples: Sequence[EvalSample], predictors: Sequence, out_dir: Path, *, batch_size: int = 8,
             cache: FindingsCache | None = None) -> dict:
    """Answers (cached under out_dir), verdicts and flags for every predictor."""
    cache = cache or FindingsCache()
    results = {}
    for p in predictors:
        slug = re.sub(r"[^\w.-]+", "_", p.name).strip("_")
        preds = run_predictions(p, samples, out_dir / f"{slug}.jsonl", batch_size=batch_size, desc=p.name)
        verdicts = [grade(s.meta, preds[s.id]) for s in samples]
        flags = [flag_of(s, preds[s.id], cache) for s in samples]
        results[p.name] = {
            "accuracy": accuracy_table([s.meta for s in samples], verdicts),
            "checks": flag_summary([v.correct for v in verdicts], flags),
            "examples": [{"id": s.id, "question": s.prompt[-1]["content"].replace("<ecg>", "").strip(),
                          "truth": s.truth, "answer": preds[s.id], "correct": v.correct}
                         for s, v in list(zip(samples, verdicts, strict=True))[:: max(1, len(samples) // 12)]],
        }
        log.info("%s: overall %.1f %%", p.name, 100 * results[p.name]["accuracy"]["overall"]["accuracy"])
    return results


def _pct(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def markdown(results: dict, command: str, n_questions: int, failed_reads: Sequence[str] = (),
             source: str = "src/anyecg/eval/questions/questions_v2.jsonl", limit: int | None = None,
             split: str = "test") -> str:
    names = list(results)
    lines = ["# Question set: answers graded against labels and annotations", "", "Made by:", "", "```", command,
             "```", "",
             f"{n_questions} questions of `{source}` ({RECORDS[split]}; built by "
             "`python -m anyecg.eval.questions.build`, truth from labels and annotations only). Tolerances: rate "
             "±10 %, PR/QRS/QT ±20 ms, PVC/PAC counts exact, localization IoU ≥ 0.5, categories exact after "
             "mapping the answer's words to the vocabulary (`anyecg.checks.mentions`); see "
             "docs/model_card.md, \"Question set\". Issue 14's bar: ≥ 85 % overall and per type."
             + (f" A subset (`--limit {limit}`): at most {limit} questions per type, taken in turn from each dataset."
                if limit else ""), "",
             "Chat models answer through `ECGChat.ask` (which answers a localization question as `locate` does: "
             "prescreen and per 10 s clip); the base LLM gets the question alone, with its chat template; "
             "greedy decoding.", "",
             "Accuracy (%) per question type (n questions); *unread*: answers the grader could not read at all.",
             "", "| type | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    first = results[names[0]]["accuracy"]
    for q in (*QTYPES, "overall", "macro"):
        if q not in first:
            continue
        cells = [_pct(results[n]["accuracy"][q]["accuracy"]) for n in names]
        label = f"**{q}**" if q in ("overall", "macro") else q
        n = first[q]["n"] if q != "macro" else f"{first[q]['n']} types"
        lines.append(f"| {label} | {n} | " + " | ".join(cells) + " |")
    lines.append("| unread (overall) | | " + " | ".join(_pct(results[n]["accuracy"]["overall"]["unread"])
                                                   for n in names) + " |")
    lines += ["", "## Checked answers (`anyecg.checks.check_answer` against `read_findings` of the same ECG)", "",
              "All questions (comparisons against both ECGs' reads). *checked*: answers with at least one claim the findings can decide; "
              "*flagged*: answers with a claim that disagrees; *flag right*: flagged answers the grader found "
              "wrong; *wrong flagged*: wrong answers that were flagged.", "",
              "| answerer | answers | checked | flagged | flag right | wrong flagged |", "|---|---|---|---|---|---|"]
    for n in names:
        c = results[n]["checks"]
        lines.append(f"| {n} | {c['answers']} | {_pct(c['checked'])} | {_pct(c['flagged'])} | "
                     f"{_pct(c['flag_right'])} | {_pct(c['wrong_flagged'])} |")
    if failed_reads:
        lines += ["", f"`read_findings` raised on {len(failed_reads)} ECG(s) (a bug: it should never raise); "
                  "their findings stand empty here (the findings-only answerer cannot answer, nothing is checked):",
                  "", *[f"- {x}" for x in failed_reads]]
    lines += ["", "## Sample answers", ""]
    for n in names:
        lines += [f"**{n}**", "", "| question | truth | answer | right |", "|---|---|---|---|"]
        for e in results[n]["examples"]:
            cell = " ".join(e["answer"].split())[:120].replace("|", "/")
            lines.append(f"| {e['question']} | {e['truth']} | {cell} | {'yes' if e['correct'] else 'no'} |")
        lines.append("")
    return "\n".join(lines) + "\n"
