"""The human-readable data card (Markdown) of a build, rendered from its manifest."""

from __future__ import annotations

BINS = ("<=10s", "10-20s", "20-30s", "30-40s", "40-50s", "50-60s", ">60s", "unknown")


def duration_bins(seconds: float | None) -> str:
    """The histogram bin of an ECG duration."""
    if seconds is None:
        return "unknown"
    if seconds <= 10.0 + 1e-6:
        return "<=10s"
    if seconds > 60.0 + 1e-6:
        return ">60s"
    low = int((seconds - 1e-6) // 10) * 10
    return f"{low}-{low + 10}s"


def _bar(n: int, most: int, width: int = 40) -> str:
    return "#" * max(1 if n else 0, round(width * n / most)) if most else ""


def render_card(manifest: dict) -> str:
    lines = ["# anyecg data card", "",
             f"Built by anyecg {manifest['anyecg_version']} (wfdb {manifest['wfdb_version']}), seed "
             f"{manifest['seed']}, tasks: {', '.join(manifest['tasks'])}. Inputs hash `{manifest['inputs_hash']}`.",
             "", "## Sources", "", "| source | title | records used | split rule |", "|---|---|---|---|"]
    for name, src in manifest["sources"].items():
        lines.append(f"| {name} | {src['title']} | {src['units']} | {src['split_rule']} |")
    notes = [(name, n) for name, src in manifest["sources"].items() for n in src["notes"]["listed"][:5]]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {name}: {n}" for name, n in notes]
    lines += ["", "## Files", "", "| file | samples |", "|---|---|"]
    lines += [f"| {name} | {n} |" for name, n in manifest["files"].items()]
    lines += ["", "## Counts per task, split and class", "",
              "Localization classes are `window:target` (positives / negatives, after class balancing).", ""]
    for task, splits in manifest["counts"].items():
        lines += [f"### {task}", "", "| split | class | samples | negatives |", "|---|---|---|---|"]
        for split, classes in sorted(splits.items()):
            for cls, (pos, neg) in sorted(classes.items()):
                lines.append(f"| {split} | {cls} | {pos + neg} | {neg if task == 'localization' else ''} |")
        lines.append("")
    lines += ["## ECG length histogram", "", "One count per ECG reference (a MultiECG sample counts each ECG).", ""]
    for task, hist in manifest["ecg_duration_histogram"].items():
        most = max(hist.values(), default=0)
        lines += [f"{task}:", "```"]
        lines += [f"{b:>8} {hist[b]:>7} {_bar(hist[b], most)}" for b in BINS if b in hist]
        lines += ["```", ""]
    skipped = manifest["skipped"]
    lines += ["## Skipped and rejected", "", f"{skipped['count']} records skipped:", ""]
    lines += [f"- {reason}: {n}" for reason, n in skipped["by_reason"].items()]
    if manifest["rejected"]:
        lines += ["", "Windows / questions left out:", ""]
        lines += [f"- {reason}: {n}" for reason, n in manifest["rejected"].items()]
    if manifest["issues"]["count"]:
        lines += ["", f"{manifest['issues']['count']} records used with issues, e.g.:", ""]
        lines += [f"- {src} {rec}: {why}" for src, rec, why in manifest["issues"]["listed"][:10]]
    return "\n".join(lines).rstrip() + "\n"
