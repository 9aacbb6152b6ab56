"""Beat-annotated WFDB databases (MIT-BIH family, European ST-T, Long-Term AF): the code they share.

Each database is a `HolterSource` (see mitdb.py, stdb.py, edb.py, svdb.py, ltafdb.py): its targets and its
fixed split. A record is read once, whole (one at a time), and yields Localization and ReportGen samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from anyecg.data.sources.base import Plan, ShardResult, Unit, hash_split, rng_for
from anyecg.data.tasks.localization import localization_samples
from anyecg.data.tasks.report import holter_reports
from anyecg.errors import AnyECGError
from anyecg.io import read_record
from anyecg.signal.intervals import describe

# The MIT-BIH beat classes beyond normal: the paper's A, V, L, R, then the other ectopic / abnormal classes.
MITDB_BEATS = ("A", "V", "L", "R", "a", "J", "S", "E", "F", "e", "j")


def list_records(root: Path) -> list[str]:
    """Record names: the `RECORDS` file when there is one, else every `*.hea` (relative, sorted)."""
    index = root / "RECORDS"
    if index.is_file():
        names = [line.strip() for line in index.read_text().splitlines() if line.strip()]
        return sorted(n for n in names if (root / f"{n}.hea").is_file())
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.hea"))


@dataclass(frozen=True)
class HolterSource:
    """A beat-annotated WFDB database and its fixed split."""

    name: str
    title: str
    beat_targets: tuple[str, ...]
    official: str = ""  # the dataset name in the official anyECG-chat JSON
    train: frozenset[str] = frozenset()  # fixed lists; records in neither go by hash (test fraction below)
    test: frozenset[str] = frozenset()
    excluded: Mapping[str, str] = field(default_factory=dict)  # record → why it is left out
    test_fraction: float = 0.2
    split_rule: str = ""
    tasks: tuple[str, ...] = ("report", "localization")

    def split_of(self, key: str) -> str:
        if key in self.test:
            return "test"
        if key in self.train:
            return "train"
        return hash_split(f"{self.name}:{key}", test=self.test_fraction, valid=0.0)

    def plan(self, root: Path, ctx) -> Plan:
        plan = Plan(split_rule=self.split_rule or f"fixed lists, others by record-name hash "
                    f"({self.test_fraction:.0%} test)", version=self.title)
        for key in list_records(root):
            if key in self.excluded:
                plan.skipped.append((self.name, key, self.excluded[key]))
                continue
            plan.units.append(Unit(self.name, key, f"{self.name}:{key}", self.split_of(key), f"{self.name}:{key}"))
        return plan

    def process(self, unit: Unit, root: Path, ctx, tasks: tuple[str, ...], result: ShardResult) -> None:
        """Read the record once; add its Localization and ReportGen samples to `result`."""
        try:
            record = read_record(root / unit.key)
        except AnyECGError as err:
            result.skipped.append((self.name, unit.key, f"unreadable: {err.reason}"))
            return
        if record.beats is None:
            result.skipped.append((self.name, unit.key, "no annotation file"))
            return
        unknown = sorted({s for s in record.beats.symbol if not _known(s)})
        if unknown:
            result.issues.append((self.name, unit.key, f"unknown annotation symbol(s) {' '.join(unknown)} ignored"))
        result.records += 1
        common = {"source": self.name, "key": unit.key, "ref": unit.ref, "split": unit.split}

        def reject(reason: str) -> None:
            result.rejected[reason] = result.rejected.get(reason, 0) + 1

        if "localization" in tasks:
            result.samples += localization_samples(
                record, **common, beat_targets=self.beat_targets, opts=ctx.localization,
                rng=rng_for(ctx.seed, "localization", self.name, unit.key), reject=reject)
        if "report" in tasks:
            result.samples += holter_reports(record, **common, n_windows=ctx.report_windows,
                                             rng=rng_for(ctx.seed, "report", self.name, unit.key))


def _known(symbol: str) -> bool:
    try:
        describe(symbol)
    except KeyError:
        return False
    return True
