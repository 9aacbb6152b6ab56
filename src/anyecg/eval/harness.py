"""Task runners: predictions (cached) → scores → JSON + Markdown sections + plots under the output dir."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from anyecg.eval import localization as loc
from anyecg.eval import render
from anyecg.eval.predictors import Predictor, TrivialPredictor
from anyecg.eval.runner import run_predictions
from anyecg.eval.samples import EvalSample
from anyecg.eval.text_metrics import exact_match, grouped_accuracy

log = logging.getLogger(__name__)


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_")


def eval_localization(samples: Sequence[EvalSample], predictors: Sequence[Predictor], out: Path, *,
                      batch_size: int = 8, ablations: Sequence[str] = ()) -> tuple[dict, str]:
    """Every predictor plus the two trivial references, on all samples and on each lead-masking ablation."""
    runs: list[Predictor] = [*predictors, TrivialPredictor("always_no"), TrivialPredictor("whole_window")]
    tables: dict[str, dict] = {}
    per_sample: dict[str, list[dict]] = {}

    def score(name: str, pred: Predictor, subset: Sequence[EvalSample], masks: dict | None, tag: str) -> None:
        cache = out / "predictions" / f"localization-{_safe(tag)}.jsonl"
        preds = run_predictions(pred, subset, cache, batch_size=batch_size, mask_leads=masks, desc=name)
        scores = loc.score_all(subset, preds)
        tables[name] = loc.group_table(scores)
        per_sample[name] = loc.as_rows(scores)
        if not isinstance(pred, TrivialPredictor):
            render.iou_histograms(scores, out / "plots" / f"iou-{_safe(name)}.png", f"{name}: IoU per type")

    for pred in runs:
        score(pred.name, pred, samples, None, pred.name)
    if ablations:
        leads = loc.sample_leads(samples)
        for mode in ablations:
            plan = loc.mask_plan(samples, mode, leads)
            subset = [s for s in samples if s.id in plan]
            log.info("mask %s: %d of %d samples have two leads", mode, len(subset), len(samples))
            for pred in runs:
                name = f"{pred.name} (mask {mode})"
                score(name, pred, subset, plan, f"{pred.name}-mask-{mode}")
    render.write_json(out / "localization_samples.json", per_sample)
    return tables, render.localization_markdown(tables)


def eval_report(samples: Sequence[EvalSample], predictor: Predictor, out: Path, *, label_sets: Sequence[str],
                scp_csv: Path | None, text_encoder: str | None, batch_size: int = 8) -> tuple[list, str]:
    from anyecg.eval.labels import load_label_set
    from anyecg.eval.zeroshot import TextEncoder, as_report_question, evaluate_reports

    asked = [as_report_question(s) for s in samples]
    preds = run_predictions(predictor, asked, out / "predictions" / f"report-{_safe(predictor.name)}.jsonl",
                            batch_size=batch_size, desc="report")
    encoder = TextEncoder(text_encoder)
    results = []
    for name in label_sets:
        label_set = load_label_set(name, scp_csv)
        r = evaluate_reports(asked, preds, label_set, encoder, scp_csv)
        if r["n"]:
            render.roc_curves(np.array(r["labels"]), np.array(r["scores"]), label_set.codes,
                              out / "plots" / f"roc-{name}.png", f"{name}: zero-shot ROC")
        results.append({k: v for k, v in r.items() if k not in ("scores", "labels")})
    return results, render.report_markdown(results)


def eval_ecgqa(samples: Sequence[EvalSample], predictor: Predictor, out: Path, *,
               batch_size: int = 8) -> tuple[dict, str]:
    """Exact match per question type; samples whose ECG files are missing are skipped and counted."""
    usable = [s for s in samples if all(_exists(r.path) for r in s.ecgs)]
    preds = run_predictions(predictor, usable, out / "predictions" / f"ecgqa-{_safe(predictor.name)}.jsonl",
                            batch_size=batch_size, desc="ecgqa")
    groups = [s.meta.get("question_type", "unknown") for s in usable]
    result = grouped_accuracy(groups, [exact_match(s.truth, preds[s.id]) for s in usable])
    result["skipped"] = len(samples) - len(usable)
    return result, render.ecgqa_markdown(result)


def _exists(path: Path) -> bool:
    return path.exists() or path.with_name(path.name + ".hea").is_file()


def eval_multiecg(samples: Sequence[EvalSample], predictor: Predictor, out: Path, *, judge_url: str | None,
                  judge_model: str, batch_size: int = 8) -> tuple[dict, str]:
    """Answers, then judge scores (cached in `judge-*.jsonl` beside the predictions); without a judge, the
    findings each answer names per ECG against the labels (`eval.findings`)."""
    from anyecg.eval.findings import findings_markdown, findings_scores
    from anyecg.eval.judge import Judge, summarize_scores

    preds = run_predictions(predictor, samples, out / "predictions" / f"multiecg-{_safe(predictor.name)}.jsonl",
                            batch_size=batch_size, desc="multiecg")
    if judge_url is None:
        scores = findings_scores(samples, preds)
        return scores, findings_markdown(scores)
    cache = out / "predictions" / f"judge-{_safe(predictor.name)}.jsonl"
    done = {}
    if cache.is_file():
        done = {r["id"]: r for r in map(json.loads, cache.read_text().splitlines()) if r["score"] is not None}
    todo = [s for s in samples if s.id not in done]
    if todo:
        rows = Judge(judge_url, judge_model).score_all(todo, preds)
        with open(cache, "a") as fh:
            for r in rows:
                fh.write(json.dumps(r) + "\n")
                done[r["id"]] = r
    summary = summarize_scores([done.get(s.id, {"score": None, "n_ecgs": len(s.ecgs)}) for s in samples])
    return summary, render.multiecg_markdown(summary)
