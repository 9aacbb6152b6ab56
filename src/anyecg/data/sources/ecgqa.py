"""ECG-QA (Oh et al. 2023): template / paraphrased JSON shards over PTB-XL and MIMIC-IV-ECG ids.

Passthrough: the question plus the paper's " Please answer briefly.", the answer list joined by ", ", the
question type kept for per-type scoring. ECG ids resolve to waveforms that the build's other sources hold
(PTB-XL, CinC 2021 HRxxxxx, MIMIC-IV-ECG); questions whose signals are absent are counted and skipped.
The `{split}_ecgs.tsv` tables fix the split of the ECGs they list, for every task of the build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from anyecg.data.schema import ECGRef, Sample, qa
from anyecg.data.sources.base import Plan, ShardResult, Unit, unit_fraction
from anyecg.data.templates import ECGQA_SUFFIX

DATABASES = {"ptbxl": "ptbxl", "mimic-iv-ecg": "mimic"}  # ECG-QA folder → our group prefix
VARIANTS = ("paraphrased", "template")


def read_split_tables(root: Path) -> dict[str, str]:
    """'ptbxl:<ecg_id>' / 'mimic:<study_id>' → ECG-QA's split, from `{train,valid,test}_ecgs.tsv`."""
    out: dict[str, str] = {}
    for folder, prefix in DATABASES.items():
        for split in ("train", "valid", "test"):
            path = root / folder / f"{split}_ecgs.tsv"
            if path.is_file():
                for line in path.read_text().splitlines():
                    cells = line.split("\t")
                    if len(cells) >= 2 and cells[1].strip().isdigit():
                        out[f"{prefix}:{int(cells[1])}"] = split
    return out


@dataclass(frozen=True)
class EcgqaSource:
    name: str = "ecgqa"
    title: str = "ECG-QA"
    tasks: tuple[str, ...] = ("ecgqa",)

    def plan(self, root: Path, ctx) -> Plan:
        variants = VARIANTS if ctx.ecgqa_variant == "both" else (ctx.ecgqa_variant,)
        plan = Plan(split_rule="the split of the question's ECGs (ECG-QA's own {split}_ecgs.tsv)",
                    version=self.title)
        for folder in DATABASES:
            for variant in variants:
                for path in sorted((root / folder / variant).glob("*/*.json")):
                    key = str(path.relative_to(root))
                    plan.units.append(Unit(self.name, key, f"{self.name}:{key}", path.parent.name, key,
                                           extra={"database": folder, "variant": variant}))
        if ctx.ecgqa_fraction < 1:
            plan.notes.append(f"subsampled to {ctx.ecgqa_fraction:.0%} of the questions (by sample-id hash)")
        return plan

    def process(self, unit: Unit, root: Path, ctx, tasks: tuple[str, ...], result: ShardResult) -> None:
        result.records += 1
        prefix, variant = DATABASES[unit.extra["database"]], unit.extra["variant"]
        try:
            rows = json.loads((root / unit.key).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            result.skipped.append((self.name, unit.key, f"unreadable JSON: {err}"))
            return
        for row in rows:
            sid = row.get("sample_id")
            if ctx.ecgqa_fraction < 1 and unit_fraction("ecgqa", prefix, variant, sid) >= ctx.ecgqa_fraction:
                continue
            found = [ctx.ecg_index.get(f"{prefix}:{int(e)}") for e in row.get("ecg_id", [])]
            if not found or any(f is None for f in found):
                result.rejected["ecgqa question: ECG signal absent"] = (
                    result.rejected.get("ecgqa question: ECG signal absent", 0) + 1)
                continue
            splits = {split for _, split in found}
            if len(splits) != 1:
                result.rejected["ecgqa question: its ECGs lie in different splits"] = (
                    result.rejected.get("ecgqa question: its ECGs lie in different splits", 0) + 1)
                continue
            answer = ", ".join(str(a) for a in row.get("answer", []))
            meta = {k: row.get(k) for k in ("question_type", "template_id", "question_id", "sample_id",
                                            "attribute_type", "attribute")}
            meta.update(ecg_ids=list(row.get("ecg_id", [])), variant=variant, ecgqa_split=unit.split,
                        database=prefix)
            refs = tuple(ECGRef(ref) for ref, _ in found)
            result.samples.append(Sample(f"ecgqa-{prefix}-{variant}-{sid}", "ecgqa", prefix, splits.pop(), refs,
                                         qa(row["question"].rstrip() + ECGQA_SUFFIX, answer, len(refs)), meta))


ECGQA = EcgqaSource()
