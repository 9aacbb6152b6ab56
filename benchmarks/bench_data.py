"""Data-builder throughput: localization on MIT-BIH vs plain wfdb, and an extrapolated MIMIC-IV-ECG build time.

    python benchmarks/bench_data.py --mitdb ../shared/data/mitdb [--records 10] [--mimic-studies 2000]

1. Localization samples/s and records/s (read each record once with anyecg, build its localization samples),
   against reading the same records with plain `wfdb.rdrecord` + `wfdb.rdann`; ratio target <= 2x.
2. A synthetic MIMIC-IV-ECG folder (record_list.csv, machine_measurements.csv, header stubs) of N studies built
   end to end (report + multiecg, 2 workers); time scaled linearly to 800,000 ECGs on 2 cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import wfdb

from anyecg.data.build import BuildContext, build
from anyecg.data.sources.base import ShardResult
from anyecg.data.sources.mitdb import SOURCE as MITDB

MIMIC_ECGS = 800_000


def bench_localization(root: Path, n_records: int) -> None:
    ctx = BuildContext()
    units = [u for u in MITDB.plan(root, ctx).units][:n_records]
    t0 = time.perf_counter()
    for u in units:
        wfdb.rdrecord(str(root / u.key))
        wfdb.rdann(str(root / u.key), "atr")
    t_wfdb = time.perf_counter() - t0
    result = ShardResult()
    t0 = time.perf_counter()
    for u in units:
        MITDB.process(u, root, ctx, ("localization",), result)
    t_ours = time.perf_counter() - t0
    n = len(result.samples)
    print(f"MIT-BIH localization: {len(units)} records, {n} samples (before class balancing)")
    print(f"  plain wfdb read:      {t_wfdb:7.2f} s  {len(units) / t_wfdb:7.2f} records/s")
    print(f"  anyecg localization:  {t_ours:7.2f} s  {len(units) / t_ours:7.2f} records/s  {n / t_ours:8.1f} samples/s")
    print(f"  ratio anyecg / wfdb:  {t_ours / t_wfdb:7.2f}x  (target <= 2x)")


def _synthetic_mimic(root: Path, n: int) -> None:
    rows, reports = ["subject_id,study_id,file_name,ecg_time,path"], ["subject_id,study_id,report_0,report_1,rr_interval"]
    findings = ("Sinus rhythm", "Atrial fibrillation", "Sinus tachycardia", "Left bundle branch block")
    for i in range(n):
        subject, study = 10_000 + i // 4, 40_000_000 + i
        rel = f"files/p{subject // 1000}/p{subject}/s{study}/{study}"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / f"{rel}.hea").write_text(f"{study} 12 500 5000\n")
        rows.append(f"{subject},{study},{study},2180-01-{1 + i % 4:02d} 10:00:00,{rel}")
        reports.append(f"{subject},{study},{findings[i % 4]},Borderline ECG,{600 + i % 400}")
    (root / "record_list.csv").write_text("\n".join(rows) + "\n")
    (root / "machine_measurements.csv").write_text("\n".join(reports) + "\n")


def bench_mimic(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mimic"
        _synthetic_mimic(root, n)
        t0 = time.perf_counter()
        manifest = build({"mimic": root}, Path(tmp) / "out", tasks=("report", "multiecg"), ctx=BuildContext(),
                         workers=2, progress=False)
        seconds = time.perf_counter() - t0
    samples = sum(manifest["files"].values())
    scaled = seconds * MIMIC_ECGS / n
    print(f"MIMIC-IV-ECG (synthetic, metadata + header stubs): {n} ECGs → {samples} samples in {seconds:.2f} s "
          f"({n / seconds:.0f} ECGs/s, 2 workers)")
    print(f"  extrapolated build for {MIMIC_ECGS:,} ECGs on 2 cores: {scaled / 60:.1f} min")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mitdb", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "mitdb")
    p.add_argument("--records", type=int, default=10, help="MIT-BIH records to time")
    p.add_argument("--mimic-studies", type=int, default=2000)
    args = p.parse_args()
    if (args.mitdb / "RECORDS").is_file():
        bench_localization(args.mitdb, args.records)
    else:
        print(f"MIT-BIH not found at {args.mitdb}: localization benchmark skipped")
    bench_mimic(args.mimic_studies)


if __name__ == "__main__":
    main()
