"""PhysioNet/CinC Challenge 2020/2021 and CPSC 2018 (WFDB with '#Dx' SNOMED codes or abbreviations).

Labels come from the header's Dx (names from `anyecg.vocabulary`); unknown codes are reported, not guessed. No patient ids:
MultiECG pairs records (said so in the manifest). Splits: CPSC A0101-A0150 is the fixed test list (other
A-records above 150 by hash); PTB-XL records (HRxxxxx) follow the PTB-XL split table of the build; the rest by hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from anyecg.data.sources.base import Plan, ShardResult, Unit, hash_split, rng_for
from anyecg.data.sources.holter import list_records
from anyecg.data.tasks.report import label_report
from anyecg.errors import AnyECGError
from anyecg.io import read_info, read_record
from anyecg.vocabulary import dx_names

_CPSC = re.compile(r"^A(\d{4})$")
_PTBXL = re.compile(r"^HR(\d{5})$")


@dataclass(frozen=True)
class CincSource:
    name: str
    title: str
    tasks: tuple[str, ...] = ("report", "multiecg")

    def split_of(self, key: str, ctx) -> tuple[str, str]:
        """(split, group) of a record."""
        stem = Path(key).name
        if m := _CPSC.match(stem):
            n = int(m.group(1))
            group = f"cpsc2018:{stem}"
            if n <= 150:
                return ("test" if n > 100 else "train"), group
            return hash_split(group), group
        if m := _PTBXL.match(stem):
            group = f"ptbxl:{int(m.group(1))}"
            return ctx.fixed_split.get(group) or hash_split(group), group
        group = f"{self.name}:{stem}"
        return hash_split(group), group

    def plan(self, root: Path, ctx) -> Plan:
        plan = Plan(split_rule="CPSC2018 A0101-A0150 test, A0001-A0100 train, later A-records by hash; "
                    "HRxxxxx (PTB-XL) by the PTB-XL split table; others by record-name hash (10% valid, 10% test)",
                    version=self.title)
        for key in list_records(root):
            path = root / key
            try:
                info = read_info(path)
                head = read_record(path, end_s=min(0.1, info.duration_s), annotations=False)
            except AnyECGError as err:
                plan.skipped.append((self.name, key, f"unreadable: {err.reason}"))
                continue
            labels = [dx_names(code) for code in head.diagnoses]
            unknown = [c for c, lab in zip(head.diagnoses, labels, strict=True) if lab is None]
            if unknown:
                plan.notes.append(f"{key}: unknown Dx code(s) {', '.join(unknown)} left out")
            known = tuple(dict.fromkeys(name for lab in labels if lab for name in lab))
            if not known:
                plan.skipped.append((self.name, key, "no known diagnosis label in '#Dx'"))
                continue
            split, group = self.split_of(key, ctx)
            meta = {"duration_s": round(info.duration_s, 6), "age": head.metadata.get("age"),
                    "sex": head.metadata.get("sex"), "dx": list(head.diagnoses)}
            plan.units.append(Unit(self.name, key, f"{self.name}:{key}", split, group, labels=known, extra=meta))
        return plan

    def process(self, unit: Unit, root: Path, ctx, tasks: tuple[str, ...], result: ShardResult) -> None:
        result.records += 1
        if "report" in tasks:
            sample = label_report(source=self.name, key=unit.key, ref=unit.ref, split=unit.split,
                                  labels=unit.labels, report=(), duration_s=unit.extra["duration_s"],
                                  rng=rng_for(ctx.seed, "report", self.name, unit.key),
                                  extra={"dx": unit.extra["dx"]})
            if sample:
                result.samples.append(sample)


CINC2021 = CincSource("cinc2021", "PhysioNet/CinC Challenge 2021")
CINC2020 = CincSource("cinc2020", "PhysioNet/CinC Challenge 2020")
CPSC2018 = CincSource("cpsc2018", "CPSC 2018 (CinC 2020 WFDB release)")
