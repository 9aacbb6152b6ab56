"""Reports: JSON, Markdown tables with the paper's figures beside ours, and plots (matplotlib Agg)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from anyecg.atomic import write_atomic
from anyecg.eval import paper
from anyecg.eval.localization import LocScore
from anyecg.signal.plot import save_figure


def fmt(x: float | None, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.1f}" if pct else f"{x:.3f}"


def write_json(path: Path, obj: object) -> None:
    write_atomic(path, json.dumps(obj, indent=1, default=float, allow_nan=True))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *["| " + " | ".join(r) + " |" for r in rows]]


def localization_markdown(tables: dict[str, dict[str, dict]]) -> str:
    """`tables[run][group]` from `localization.group_table` → one section per group, one row per run."""
    groups = sorted({g for t in tables.values() for g in t})
    lines = ["## Localization", "",
             "IoU in %. *official*: the paper's IoU (identical strings = 100, both `No ... Found` = 100, "
             "unparseable = 0); *strict*: no string shortcut, windows where both truth and answer are negative "
             "left out; *pos only*: official IoU on windows that contain the asked type; *neg share*: share of "
             "windows without it; *pos acc* / *neg acc*: something localized on positive windows / "
             "`No ... Found` on negative ones; *valid*: answers in the answer format. Macro = mean over types.",
             "", f"Paper: the default anyECG-chat averages {paper.TABLE8_LOCALIZATION_IOU:.2f} IoU (Table 8, "
             "mean over its localization sets; per-dataset bars only in its Figure 2).", ""]
    for g in groups:
        types = sorted({t for run in tables.values() if g in run for t in run[g]["types"]})
        header = ["run", *[f"{t} (n)" for t in types], "macro official", "micro official", "macro strict",
                  "pos only", "neg share", "pos acc", "neg acc", "valid"]
        rows = []
        for name, run in tables.items():
            if g not in run:
                continue
            r = run[g]
            cells = [f"{fmt(r['types'][t]['iou'], True)} ({r['types'][t]['n']})" if t in r["types"] else "–"
                     for t in types]
            m, mi = r["macro"], r["micro"]
            rows.append([name, *cells, fmt(m["iou"], True), fmt(mi["iou"], True), fmt(m["strict"], True),
                         fmt(mi["iou_pos"], True), fmt(mi["neg_share"], True), fmt(mi["pos_acc"], True),
                         fmt(mi["neg_acc"], True), fmt(mi["valid"], True)])
        lines += [f"### {g}", "", *_table(header, rows), ""]
    return "\n".join(lines)


def iou_histograms(scores: Sequence[LocScore], path: Path, title: str) -> None:
    """One panel per abnormal type: histogram of official IoU."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    types = sorted({s.abnormal_type for s in scores})
    if not types:
        return
    fig, axes = plt.subplots(1, len(types), figsize=(3 * len(types), 2.6), squeeze=False)
    for ax, t in zip(axes[0], types, strict=True):
        ax.hist([s.iou for s in scores if s.abnormal_type == t], bins=np.linspace(0, 1, 11), color="tab:blue")
        ax.set_title(f"{t} (n={sum(s.abnormal_type == t for s in scores)})")
        ax.set_xlabel("IoU")
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    plt.close(fig)


def roc_curves(labels: np.ndarray, scores: np.ndarray, names: Sequence[str], path: Path, title: str) -> None:
    """ROC curve per class (classes with both label values) on one plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_auc_score, roc_curve

    fig, ax = plt.subplots(figsize=(5, 5))
    for j, name in enumerate(names):
        if labels[:, j].min() == labels[:, j].max():
            continue
        fpr, tpr, _ = roc_curve(labels[:, j], scores[:, j])
        ax.plot(fpr, tpr, lw=1, label=f"{name} ({roc_auc_score(labels[:, j], scores[:, j]):.2f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    plt.close(fig)


def report_markdown(results: Sequence[dict]) -> str:
    """Zero-shot AUC and BLEU/ROUGE per label set, the paper's figures beside ours."""
    rows = [[r["label_set"], str(r["n"]), fmt(r.get("macro_auc"), True),
             fmt(paper.paper_value(paper.TABLE4_AUC, r["label_set"])), ", ".join(r.get("auc_skipped", [])) or "–"]
            for r in results]
    lines = ["## Report → zero-shot classification", "",
             *_table(["label set", "n", "macro AUC (ours, %)", "paper anyECG-chat (%)", "classes skipped"],
                     rows), ""]
    keys = ("bleu1", "bleu2", "bleu3", "bleu4", "rouge1", "rouge2", "rougeL")
    text_rows = []
    for r in results:
        if r["n"]:
            ours = {**r["bleu"], **r["rouge"]}
            text_rows.append([r["label_set"], *[fmt(ours[k]) for k in keys]])
    text_rows.append(["paper anyECG-chat (mean of 6 sets)", *[fmt(paper.TABLE5_TEXT["anyECG-chat"][k])
                                                               for k in keys]])
    return "\n".join([*lines, "### BLEU / ROUGE", "", *_table(["set", *keys], text_rows), ""])


def ecgqa_markdown(result: dict) -> str:
    rows = [[g, str(result["counts"][g]), fmt(acc, True), fmt(paper.paper_value(paper.TABLE7_ECGQA, g))]
            for g, acc in result["per_group"].items()]
    rows += [["macro", "", fmt(result["macro"], True), ""], ["micro", "", fmt(result["micro"], True), ""]]
    return "\n".join(["## ECG-QA (exact match)", "", f"Skipped questions: {result['skipped']}.", "",
                      *_table(["question type", "n", "ours (%)", "paper anyECG-chat (%)"], rows), ""])


def multiecg_markdown(summary: dict) -> str:
    rows = [[k, fmt(v), fmt(paper.paper_value(paper.TABLE6_JUDGE, k))] for k, v in summary["by_n_ecgs"].items()]
    rows.append(["all", fmt(summary["mean"]), fmt(paper.TABLE6_JUDGE["anyECG-chat"]["all"])])
    dist = ", ".join(f"{k}: {v}" for k, v in summary["distribution"].items()) or "–"
    return "\n".join(["## MultiECG (LLM judge, 0-5)", "",
                      f"{summary['n']} answers, {summary['unscored']} unscored; distribution {dist}.", "",
                      *_table(["# ECGs", "ours", "paper anyECG-chat"], rows), ""])
