"""Report and comparison targets that name what the machine read holds (`--targets read` of the questions, for the
two free-text tasks).

A model trained on label targets learns to write findings its findings block does not hold (release 5 names AF for
CPSC A0134, labelled RBBB, whose read holds no AF), and the labels of one database cover only its own classes
(CPSC 2018: 9).
Here a report is the read's statements (`anyecg.findings.summary.named_statements`, in vocabulary order) and a
comparison lists each ECG's read statements for the question's aspect in the builder's format
(`anyecg.data.tasks.multiecg.comparison_answer`): what a model that copies its block writes. The PTB-XL original
report texts (asked for as the original report) keep their text. ECGs the read finds no beat in are left out.

    python -m anyecg.data.tasks.read_targets --data data/release3

writes `reports_read.jsonl` and `multiecg_read.jsonl` beside `reports.jsonl` and `multiecg.jsonl`.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from anyecg.data.labels import aspects_of
from anyecg.data.release3 import report_names
from anyecg.data.schema import dumps, resolve_path, write_lines
from anyecg.data.tasks.multiecg import comparison_answer
from anyecg.data.tasks.report import report_answer
from anyecg.findings.answers import FindingsCache
from anyecg.findings.summary import named_statements
from anyecg.findings.types import ECGFindings
from anyecg.train.dataset import manifest_roots

FILES = {"reports.jsonl": "reports_read.jsonl", "multiecg.jsonl": "multiecg_read.jsonl"}


def _findings(cache: FindingsCache, ecg: dict, roots: dict[str, str]) -> ECGFindings:
    return cache.get(resolve_path(ecg["path"], roots), ecg.get("start_s"), ecg.get("end_s"))


def _with_answer(row: dict, answer: str, names: list[list[str]]) -> dict:
    conv = [*row["conversation"][:-1], {"role": "assistant", "content": answer}]
    return {**row, "conversation": conv, "meta": {**row["meta"], "target": "read", "read_names": names}}


def _aspect_names(f: ECGFindings, aspect: str) -> list[str]:
    names = report_names(named_statements(f))
    if aspect == "overall":
        return names
    names = [n for n in names if aspect in aspects_of(n)]
    rate = f.measurements.heart_rate_bpm
    if aspect == "rate" and rate is not None:
        names.insert(0, f"heart rate {rate:.0f} bpm")
    return names


def read_report(f: ECGFindings) -> tuple[str, list[str]]:
    """A report naming the read's statements (and the names)."""
    names = _aspect_names(f, "overall")
    return report_answer(names), names


def read_comparison(fs: Sequence[ECGFindings], aspect: str = "overall") -> tuple[str, list[list[str]]]:
    """A comparison of the ECGs' reads for one aspect in the builder's format (and each ECG's names)."""
    per_ecg = [_aspect_names(f, aspect) for f in fs]
    rates = [round(f.measurements.heart_rate_bpm) if f.measurements.heart_rate_bpm else None for f in fs]
    return comparison_answer(per_ecg, aspect, rates), per_ecg


def read_target(row: dict, cache: FindingsCache, roots: dict[str, str]) -> dict | None:
    """The row with its answer from the read; None when an ECG has no beats to read."""
    if row["task"] == "report" and row["meta"].get("report_source") == "database text":
        return row
    fs = [_findings(cache, e, roots) for e in row["ecgs"]]
    if any(not f.n_beats for f in fs):
        return None
    if row["task"] == "report":
        answer, names = read_report(fs[0])
        return _with_answer(row, answer, [names])
    answer, per_ecg = read_comparison(fs, row["meta"].get("aspect", "overall"))
    return _with_answer(row, answer, per_ecg)


def read_targets(rows: Iterable[dict], roots: dict[str, str], cache: FindingsCache | None = None
                 ) -> Iterator[dict]:
    cache = cache or FindingsCache()
    for row in rows:
        out = read_target(row, cache, roots)
        if out is not None:
            yield out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("data/release3"), help="the release-3 training data folder")
    args = p.parse_args(argv)
    cache = FindingsCache()
    for name, target in FILES.items():
        src = args.data / name
        roots = manifest_roots([str(src)])
        rows = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]
        out = list(read_targets(rows, roots, cache))
        write_lines(args.data / target, (dumps(d) for d in out))
        changed = Counter(d["dataset"] for d in out if d["meta"].get("target") == "read")
        print(f"{args.data / target}: {len(out)} of {len(rows)} samples ({len(rows) - len(out)} without beats "
              f"left out); read targets by database: {dict(changed)}")
    if cache.failed:
        print(f"machine read failed on {len(cache.failed)} ECG(s): {cache.failed[:3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
