"""Read + preprocess speed and memory vs plain `wfdb.rdrecord` on MIT-BIH Arrhythmia (48 records, 24.1 h).

    .venv/bin/python benchmarks/bench_io.py [--data ../shared/data/mitdb] [--records N] [--parts records,resample,24h]

Prints, measured in one run (baseline and ours interleaved record by record):
1. whole records: `wfdb.rdrecord` vs `read_record` + `preprocess` → ratio (target ≤ 1.5), hours of ECG per second;
2. 60 s windows, as a scan does: `wfdb.rdrecord(sampfrom, sampto)` per window vs `iter_windows(path, 60)`;
3. FFT (paper default) vs polyphase resampling: time and difference of the model inputs;
4. a 24 h 2-lead 360 Hz record (MIT-BIH records concatenated into a temporary WFDB record) scanned window by
   window in a fresh process: peak memory (VmHWM) vs file size (target ≤ 2x), and the whole-record read for contrast.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import wfdb

from anyecg.io import read_record
from anyecg.signal.preprocess import iter_windows, preprocess

WINDOW_S = 60.0
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mitdb"

_MEMORY_PROBE = """
import sys, time
from anyecg.signal.preprocess import iter_windows, preprocess
from anyecg.io import read_record

def status(key):  # kB; VmHWM is this process's own peak (ru_maxrss would inherit the parent's at fork)
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(key))

path, mode = sys.argv[1], sys.argv[2]
before = status("VmRSS:")
t = time.perf_counter()
if mode == "windows":
    n = sum(x.n_samples for x in iter_windows(path, 60.0))
else:
    n = preprocess(read_record(path, annotations=False)).n_samples
print(before, status("VmHWM:"), time.perf_counter() - t, n)
"""


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def wfdb_windows(path: str, n_samples: int, fs: float) -> None:
    step = int(WINDOW_S * fs)
    for a in range(0, n_samples, step):
        wfdb.rdrecord(path, sampfrom=a, sampto=min(a + step, n_samples))


def bench_records(paths: list[str]) -> None:
    totals = dict.fromkeys(("wfdb", "read", "ours", "ours_ann", "wfdb_win", "ours_win"), 0.0)
    hours = 0.0
    for path in paths:
        t, rec = timed(lambda p=path: wfdb.rdrecord(p))
        totals["wfdb"] += t
        hours += rec.sig_len / rec.fs / 3600
        totals["read"] += timed(lambda p=path: read_record(p, annotations=False))[0]
        totals["ours"] += timed(lambda p=path: preprocess(read_record(p, annotations=False)))[0]
        totals["ours_ann"] += timed(lambda p=path: preprocess(read_record(p)))[0]
        totals["wfdb_win"] += timed(lambda p=path, r=rec: wfdb_windows(p, r.sig_len, r.fs))[0]
        totals["ours_win"] += timed(lambda p=path: sum(1 for _ in iter_windows(p, WINDOW_S)))[0]
    print(f"records: {len(paths)}, {hours:.2f} h of ECG")
    print(f"read only       wfdb.rdrecord {totals['wfdb']:7.2f} s | read_record            {totals['read']:7.2f} s"
          f" | ratio {totals['read'] / totals['wfdb']:.2f}")
    print(f"whole records   wfdb.rdrecord {totals['wfdb']:7.2f} s | read_record+preprocess {totals['ours']:7.2f} s"
          f" | ratio {totals['ours'] / totals['wfdb']:.2f} | {hours / totals['ours']:.1f} h ECG/s"
          f" | with .atr annotations {totals['ours_ann']:.2f} s (ratio {totals['ours_ann'] / totals['wfdb']:.2f})")
    print(f"60 s windows    wfdb.rdrecord {totals['wfdb_win']:7.2f} s | iter_windows           "
          f"{totals['ours_win']:7.2f} s | ratio {totals['ours_win'] / totals['wfdb_win']:.2f}"
          f" | {hours / totals['ours_win']:.1f} h ECG/s")


def bench_resample(paths: list[str]) -> None:
    records = [read_record(p, annotations=False) for p in paths]
    times = {"fft": 0.0, "poly": 0.0}
    diffs, corrs, edge = [], [], 0.0
    for method in times:
        for rec in records:
            times[method] += timed(lambda r=rec, m=method: [preprocess(r, start_s=a, end_s=a + WINDOW_S, resample=m)
                                                             for a in range(0, 1800, int(WINDOW_S))])[0]
    for rec in records:
        for a in (0.0, 600.0, 1200.0):
            f = preprocess(rec, start_s=a, end_s=a + WINDOW_S).signal
            p = preprocess(rec, start_s=a, end_s=a + WINDOW_S, resample="poly").signal
            rows = np.flatnonzero(np.abs(f).sum(axis=1) > 0)
            diffs.append(np.abs(f[rows] - p[rows])[:, 50:-50])  # without the first/last 0.5 s
            edge = max(edge, float(np.abs(f[rows] - p[rows]).max()))
            corrs += [np.corrcoef(f[r], p[r])[0, 1] for r in rows]
    d = np.concatenate([x.ravel() for x in diffs])
    whole = {m: timed(lambda m=m: preprocess(records[0], resample=m))[0] for m in times}
    print(f"resample, 60 s windows of {len(records)} records: fft {times['fft']:.2f} s, poly {times['poly']:.2f} s"
          f" (poly/fft {times['poly'] / times['fft']:.2f}); whole 30 min record: fft {whole['fft']:.3f} s,"
          f" poly {whole['poly']:.3f} s")
    print(f"  fft vs poly on the [-1, 1] input (3 windows/record): mean |diff| {d.mean():.4f},"
          f" p99 {np.percentile(d, 99):.4f}, max {d.max():.4f} away from the window edges, max {edge:.4f}"
          f" with the edges; mean correlation {np.mean(corrs):.5f}")


def make_24h(paths: list[str], out_dir: Path) -> Path:
    """Concatenate MIT-BIH records (digital values, same gain) into one 2-lead 360 Hz WFDB record of >= 24 h."""
    chunks, n = [], 0
    for path in paths * (1 + int(24 * 3600 * 360 // (650000 * len(paths)))):
        rec = wfdb.rdrecord(path, physical=False)
        chunks.append(rec.d_signal.astype(np.int16))
        n += rec.sig_len
        if n >= 24 * 3600 * 360:
            break
    signal = np.concatenate(chunks)
    wfdb.wrsamp("holter24h", fs=360, units=["mV", "mV"], sig_name=["MLII", "V1"], d_signal=signal,
                fmt=["212", "212"], adc_gain=[200.0, 200.0], baseline=[1024, 1024], write_dir=str(out_dir))
    return out_dir / "holter24h"


def bench_memory(paths: list[str], skip_whole: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        record = make_24h(paths, Path(tmp))
        size = record.with_suffix(".dat").stat().st_size
        print(f"24 h record: {size / 2**20:.1f} MiB .dat (format 212)")
        for mode in ("windows",) + (() if skip_whole else ("whole",)):
            out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(record), mode],
                                 capture_output=True, text=True, check=True).stdout.split()
            before, peak, seconds, n = int(out[0]) * 1024, int(out[1]) * 1024, float(out[2]), int(out[3])
            print(f"  {mode:8s} peak RSS {peak / 2**20:7.1f} MiB (after imports {before / 2**20:.1f} MiB,"
                  f" +{(peak - before) / 2**20:.1f} MiB = {(peak - before) / size:.2f}x file) in {seconds:.1f} s,"
                  f" {n / 100 / 3600:.2f} h → {n / 100 / 3600 / seconds:.1f} h ECG/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--records", type=int, default=None, help="use only the first N records")
    parser.add_argument("--parts", default="records,resample,24h", help="comma-separated parts to run")
    parser.add_argument("--skip-whole-24h", action="store_true", help="skip the whole-record 24 h contrast")
    args = parser.parse_args()
    paths = [str(p.with_suffix("")) for p in sorted(args.data.glob("*.hea"))][: args.records]
    if not paths:
        sys.exit(f"no WFDB records in {args.data}")
    read_record(paths[0])  # warm imports
    wfdb.rdrecord(paths[0])
    parts = args.parts.split(",")
    if "records" in parts:
        bench_records(paths)
    if "resample" in parts:
        bench_resample(paths)
    if "24h" in parts:
        bench_memory(paths, args.skip_whole_24h)


if __name__ == "__main__":
    main()
