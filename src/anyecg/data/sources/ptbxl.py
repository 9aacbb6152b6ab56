"""PTB-XL: `ptbxl_database.csv` (reports from SCP codes named by `anyecg.vocabulary`, the report text in meta).

Waveforms are used only where they exist: `records500/..._hr` under the root, else the same ECG in a CinC 2021
source of the build (HRxxxxx); ECGs with neither are counted as skipped. Patient id and recording date feed
MultiECG. Split: the build's PTB-XL split table (ECG-QA's split where given, else strat_fold 9 valid / 10 test).
"""

from __future__ import annotations

import ast
import csv
from dataclasses import dataclass
from pathlib import Path

from anyecg.data.sources.base import Plan, ShardResult, Unit, hash_split, ptbxl_fold_split, rng_for
from anyecg.data.tasks.report import label_report
from anyecg.errors import DataBuildError
from anyecg.vocabulary import SCP

DATABASE = "ptbxl_database.csv"


def read_folds(root: Path) -> dict[str, str]:
    """'ptbxl:<ecg_id>' → split from strat_fold (for the build's split table)."""
    with open(root / DATABASE, newline="", encoding="utf-8") as f:
        return {f"ptbxl:{int(float(r['ecg_id']))}": ptbxl_fold_split(int(float(r["strat_fold"])))
                for r in csv.DictReader(f) if r.get("strat_fold")}


def scp_labels(scp_codes: str) -> tuple[tuple[str, ...], list[str]]:
    """Vocabulary names of the SCP codes, most likely first; and the codes the vocabulary lacks."""
    codes = ast.literal_eval(scp_codes) if scp_codes.strip() else {}
    ordered = sorted(codes.items(), key=lambda kv: -float(kv[1]))
    unknown = [c for c, _ in ordered if c not in SCP]
    return tuple(dict.fromkeys(name for c, _ in ordered for name in SCP.get(c, ()))), unknown


@dataclass(frozen=True)
class PtbxlSource:
    name: str = "ptbxl"
    title: str = "PTB-XL"
    tasks: tuple[str, ...] = ("report", "multiecg")

    def plan(self, root: Path, ctx) -> Plan:
        if not (root / DATABASE).is_file():
            raise DataBuildError(f"{DATABASE} not found", root)
        plan = Plan(split_rule="ECG-QA split where the build has it, else strat_fold (9 valid, 10 test)",
                    version=self.title)
        absent = 0
        with open(root / DATABASE, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                ecg_id = int(float(row["ecg_id"]))
                rel = row.get("filename_hr", "")
                if rel and (root / f"{rel}.hea").is_file():
                    ref = f"{self.name}:{rel}"
                elif f"ptbxl:{ecg_id}" in ctx.ptbxl_alt:
                    ref = ctx.ptbxl_alt[f"ptbxl:{ecg_id}"]
                else:
                    absent += 1
                    plan.skipped.append((self.name, str(ecg_id), "waveform absent"))
                    continue
                labels, unknown = scp_labels(row.get("scp_codes", ""))
                if unknown:
                    plan.notes.append(f"{ecg_id}: SCP code(s) {', '.join(unknown)} not in the vocabulary")
                group = f"ptbxl:{ecg_id}"
                split = ctx.fixed_split.get(group) or hash_split(group)
                patient = str(int(float(row["patient_id"]))) if row.get("patient_id") else None
                plan.units.append(Unit(self.name, str(ecg_id), ref, split, group, patient=patient,
                                       time=row.get("recording_date") or None, labels=labels,
                                       extra={"report_text": row.get("report", ""), "duration_s": 10.0,
                                              "scp_codes": row.get("scp_codes", "")}))
        if absent:
            plan.notes.append(f"{absent} ECGs without a waveform under the root or in a CinC 2021 source: skipped")
        return plan

    def process(self, unit: Unit, root: Path, ctx, tasks: tuple[str, ...], result: ShardResult) -> None:
        result.records += 1
        if "report" in tasks:
            sample = label_report(source=self.name, key=unit.key, ref=unit.ref, split=unit.split,
                                  labels=unit.labels, report=(), duration_s=unit.extra["duration_s"],
                                  rng=rng_for(ctx.seed, "report", self.name, unit.key),
                                  extra={"report_text": unit.extra["report_text"], "ecg_id": int(unit.key),
                                         # the evaluation's PTB-XL label sets read the codes themselves
                                         "scp_codes": unit.extra.get("scp_codes", "")})
            if sample:
                result.samples.append(sample)


PTBXL = PtbxlSource()
