"""MIMIC-IV-ECG: `record_list.csv` (subject, study, ecg_time, path) + `machine_measurements.csv` (report_0..17).

The report is the machine report lines joined by ", " (as the official stage-1 data); the heart rate comes from
`rr_interval`. Only studies whose header exists under the root are used. Split: ECG-QA's split where the build
has it, else by subject-id hash (5% valid, 5% test).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from anyecg.data.sources.base import Plan, ShardResult, Unit, hash_split, rng_for
from anyecg.data.tasks.report import label_report
from anyecg.errors import DataBuildError

RECORD_LIST, MEASUREMENTS = "record_list.csv", "machine_measurements.csv"


def read_reports(root: Path) -> dict[str, tuple[tuple[str, ...], float | None]]:
    """study_id → (report lines, heart rate in bpm or None)."""
    out: dict[str, tuple[tuple[str, ...], float | None]] = {}
    path = root / MEASUREMENTS
    if not path.is_file():
        return out
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lines = tuple(row[k].strip() for k in sorted((k for k in row if k.startswith("report_")),
                                                          key=lambda k: int(k.split("_")[1])) if (row[k] or "").strip())
            try:
                rr = float(row.get("rr_interval") or "nan")
            except ValueError:
                rr = float("nan")
            hr = round(60000.0 / rr) if 200 <= rr <= 3000 else None
            out[row["study_id"]] = (lines, hr)
    return out


@dataclass(frozen=True)
class MimicSource:
    name: str = "mimic"
    title: str = "MIMIC-IV-ECG"
    tasks: tuple[str, ...] = ("report", "multiecg")

    def plan(self, root: Path, ctx) -> Plan:
        if not (root / RECORD_LIST).is_file():
            raise DataBuildError(f"{RECORD_LIST} not found", root)
        reports = read_reports(root)
        plan = Plan(split_rule="ECG-QA split where given, else subject-id hash (5% valid, 5% test)",
                    version=self.title)
        with open(root / RECORD_LIST, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                study, subject, rel = row["study_id"], row["subject_id"], row["path"]
                if not (root / f"{rel}.hea").is_file():
                    plan.skipped.append((self.name, study, "waveform absent"))
                    continue
                lines, hr = reports.get(study, ((), None))
                split = ctx.fixed_split.get(f"mimic:{study}") or hash_split(f"mimic-subject:{subject}", 0.05, 0.05)
                plan.units.append(Unit(self.name, study, f"{self.name}:{rel}", split, f"mimic:{study}",
                                       patient=subject, time=row.get("ecg_time") or None, labels=lines,
                                       report=lines, extra={"heart_rate": hr}))
        return plan

    def process(self, unit: Unit, root: Path, ctx, tasks: tuple[str, ...], result: ShardResult) -> None:
        result.records += 1
        if "report" in tasks:
            sample = label_report(source=self.name, key=unit.key, ref=unit.ref, split=unit.split,
                                  labels=unit.labels, report=unit.report, duration_s=10.0,
                                  rng=rng_for(ctx.seed, "report", self.name, unit.key),
                                  extra={"subject_id": unit.patient, "ecg_time": unit.time})
            if sample:
                result.samples.append(sample)
            else:
                result.skipped.append((self.name, unit.key, "no machine report"))


MIMIC = MimicSource()
