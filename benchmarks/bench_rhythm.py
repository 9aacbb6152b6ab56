"""Rhythm + beats of a 24 h 2-lead 360 Hz record: time, real-time factor and peak memory against a raw read.

    nice -n 10 python benchmarks/bench_rhythm.py --mitdb ../shared/data/mitdb [--tmp DIR]

The 48 MIT-BIH Arrhythmia records (30 min each, 2 leads, 360 Hz) are concatenated into one 24.1 h WFDB record
(format 16, written once to --tmp). Each measurement runs in a fresh process (peak RSS = that process's
ru_maxrss):
- baseline: `wfdb.rdrecord` of the whole record (the raw read, float64 physical signal);
- ours: `beat_track` (block by block: read, detect, classify, P-score) + `rhythm_findings` (checks, episodes) on
  the first 1 h, 6 h and the whole record: time, × real time, and peak RSS, which must stay flat in duration.
Goal (issue 13): the 24 h read in ≤ 60 s on 2 cores (≥ 1,440 × real time). CPU seconds (user + system of the
process) are printed beside the wall time: on a shared machine the wall time also counts the other jobs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

NAME = "mitdb24h"
_CHILD = r"""
import json, resource, sys, time
path, what, end_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
started = time.perf_counter()
if what == "baseline":
    import wfdb
    rec = wfdb.rdrecord(path)
    out = {"samples": int(rec.p_signal.shape[0])}
else:
    from anyecg.findings.stream import beat_track, rhythm_findings
    f = rhythm_findings(beat_track(path, end_s=end_s))
    out = {"beats": f.n_beats, "episodes": len(f.episodes),
           "af_s": round(sum(e.duration_s for e in f.episodes_of("AF")), 1)}
out["seconds"] = time.perf_counter() - started
use = resource.getrusage(resource.RUSAGE_SELF)
out["cpu_s"] = use.ru_utime + use.ru_stime
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def build_record(mitdb: Path, folder: Path) -> Path:
    """The 48 records' digital samples one after the other (both channels) as one WFDB record; kept if there."""
    import wfdb

    head = folder / f"{NAME}.hea"
    if head.is_file():
        return folder / NAME
    names = [r for r in (mitdb / "RECORDS").read_text().split() if r]
    total = 0
    with open(folder / f"{NAME}.dat", "wb") as dat:
        for r in names:
            rec = wfdb.rdrecord(str(mitdb / r), physical=False)
            d = rec.d_signal[:, :2].astype(np.int16)
            d.tofile(dat)
            total += len(d)
    head.write_text(f"{NAME} 2 360 {total}\n{NAME}.dat 16 200 11 1024 0 0 0 MLII\n"
                    f"{NAME}.dat 16 200 11 1024 0 0 0 V1\n")
    return folder / NAME


def measure(path: Path, what: str, end_s: float) -> dict:
    run = subprocess.run([sys.executable, "-c", _CHILD, str(path), what, str(end_s)], capture_output=True,
                         text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mitdb", type=Path, required=True)
    p.add_argument("--tmp", type=Path, help="folder for the 24 h record (default: a temporary folder)")
    args = p.parse_args()
    folder = args.tmp or Path(tempfile.mkdtemp(prefix="anyecg-bench-rhythm-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = build_record(args.mitdb, folder)
    hours = int((path.with_suffix(".dat").stat().st_size // 4) / 360) / 3600
    base = measure(path, "baseline", 0)
    print(f"baseline wfdb.rdrecord of {hours:.1f} h: {base['seconds']:.1f} s wall, {base['cpu_s']:.1f} s CPU, "
          f"peak RSS {base['peak_rss_mb']:.0f} MB")
    print("| span | wall s | CPU s | × real time (wall) | peak RSS MB | beats | episodes | wall / raw read | "
          "RSS / raw read |")
    print("|---|---|---|---|---|---|---|---|---|")
    for span_h in (1.0, 6.0, hours):
        r = measure(path, "ours", span_h * 3600)
        print(f"| {span_h:.1f} h | {r['seconds']:.1f} | {r['cpu_s']:.1f} | {span_h * 3600 / r['seconds']:.0f} | "
              f"{r['peak_rss_mb']:.0f} | {r['beats']} | {r['episodes']} | {r['seconds'] / base['seconds']:.2f} | "
              f"{r['peak_rss_mb'] / base['peak_rss_mb']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
