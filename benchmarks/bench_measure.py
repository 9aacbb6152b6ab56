"""Measuring one 10 s 12-lead 500 Hz ECG: our `read_findings` against neurokit2's own process + delineate.

    nice -n 10 python benchmarks/bench_measure.py --ludb ../shared/data/ludb [--records 1,2,3] [--repeat 5]

Per LUDB record (a 10 s 12-lead 500 Hz ECG): the best of `--repeat` runs of
- ours: `read_findings(record)` (R peaks voted across 12 leads, median-beat delineation of all leads, every
  measurement);
- neurokit2: `ecg_process` (cleaning, R peaks, rate, quality, delineation) on lead II, then `ecg_delineate`
  (`method="dwt"`) on its R peaks: one lead only, the usual neurokit2 path.
Prints both times and the ratio ours / neurokit2 (target ≤ 1.5). The first call of each is a warm-up (imports,
caches) and is not counted.

With `--mitdb DIR`: the cost of reading a 10 s window of a 30-min record in its recording (`read_findings(record,
start_s, end_s)`: rhythm episodes and beat classes over RHYTHM_CONTEXT_S more on each side) against the same
window cut out and read alone, median over 10 windows of records 208 and 201.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from anyecg.findings.read import RHYTHM_CONTEXT_S, read_findings
from anyecg.io import read_record


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ludb", type=Path, required=True, help="LUDB folder (with data/N.hea)")
    ap.add_argument("--records", default="1,2,3,4,5")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--mitdb", type=Path, help="MIT-BIH folder: also time a window read in its recording")
    args = ap.parse_args()
    if args.mitdb:
        window_in_context(args.mitdb, args.repeat)
    import neurokit2 as nk

    def neurokit(x: np.ndarray, fs: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, info = nk.ecg_process(x, sampling_rate=fs)
            nk.ecg_delineate(x, info["ECG_R_Peaks"], sampling_rate=fs, method="dwt")

    ours_s, nk_s = [], []
    for name in args.records.split(","):
        record = read_record(args.ludb / "data" / name.strip(), annotations=False)
        lead_ii = record.signal[record.leads.index("II")].astype(np.float64)
        fs = round(record.fs)
        read_findings(record)
        neurokit(lead_ii, fs)
        ours_s.append(best_of(lambda r=record: read_findings(r), args.repeat))
        nk_s.append(best_of(lambda x=lead_ii, f=fs: neurokit(x, f), args.repeat))
        print(f"record {name}: {len(record.leads)} leads, {record.duration_s:g} s at {record.fs:g} Hz: "
              f"ours {1000 * ours_s[-1]:.1f} ms, neurokit2 {1000 * nk_s[-1]:.1f} ms, "
              f"ratio {ours_s[-1] / nk_s[-1]:.2f}")
    ours, ref = float(np.median(ours_s)), float(np.median(nk_s))
    print(f"median over {len(ours_s)} records: ours {1000 * ours:.1f} ms (12 leads), neurokit2 {1000 * ref:.1f} ms "
          f"(lead II), ratio ours/neurokit2 = {ours / ref:.2f} (target <= 1.5)")


def window_in_context(mitdb: Path, repeat: int) -> None:
    alone, context = [], []
    for name in ("208", "201"):
        record = read_record(mitdb / name, annotations=False)
        for a in np.linspace(100.0, record.duration_s - 200.0, 5):
            cut = record.cut(a, a + 10.0)
            read_findings(cut)
            alone.append(best_of(lambda c=cut: read_findings(c), repeat))
            context.append(best_of(lambda r=record, s=a: read_findings(r, start_s=s, end_s=s + 10.0), repeat))
    a, c = float(np.median(alone)), float(np.median(context))
    print(f"10 s window of MIT-BIH (2 leads, 360 Hz), median of {len(alone)}: alone {1000 * a:.1f} ms, in its "
          f"recording (±{RHYTHM_CONTEXT_S:g} s) {1000 * c:.1f} ms, ratio {c / a:.2f}")


if __name__ == "__main__":
    main()
