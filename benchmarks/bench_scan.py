"""`anyecg scan` engines on long recordings: speed (x real time), memory, and episodes against the annotations.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_scan.py [--records 208,100] [--hours 24]
        [--llm-minutes 30] [--compare-minutes 5] [--parts findings,llm,ds2] [--ds2-minutes 5] [--baseline DIR]

1. findings engine (the default: the machine read, no model) on MIT-BIH records (30 min each) and on a `--hours` concatenation
   of MIT-BIH records: seconds and x real time, beside a plain `wfdb.rdrecord` of the same file (the baseline
   ratio), and the peak RSS of a fresh process for the 30 min and the long record (flat in duration).
2. llm engine with the `agree` screen (the LLM asked only where the beat head and the machine read disagree) on
   the first `--llm-minutes` of each record, and beside it on the first `--compare-minutes` the same screen, the
   beat-head screen (the paper's way, release 2's rule) and the machine read's screen: x real time and questions
   that reach the LLM.
3. quality on the same spans: per beat type (V, A), event sensitivity (annotated target beats inside a found
   episode) and PPV (found episodes holding an annotated target beat), and the burden error (points of the span)
   against the paper's intervals from the annotations, for each engine.
4. ds2: the same quality figures on the first `--ds2-minutes` of each of the 22 held-out MIT-BIH DS2 records, pooled
   over the records (event sensitivity and PPV per beat type, mean burden error per record) and x real time, for
   the findings engine, the llm engine with the shipped model (answers verified against the machine read, the
   default, and `--no-verify`) and the llm engine with `--baseline` (a
   model directory, e.g. release 2's weights: `git show 7917d34^:src/anyecg/weights/embedded/model.safetensors`
   and its config.yaml).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RSS_PROBE = """
import sys
from anyecg.scan import scan
scan(None, sys.argv[1], engine="findings", progress=False)
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def concatenated(folder: Path, hours: float) -> str:
    """A 2-lead 360 Hz WFDB record of `hours`: MIT-BIH records concatenated."""
    import wfdb

    parts = [SHARED / "mitdb" / r for r in ("208", "100", "119", "213", "201", "203")]
    chunks = [wfdb.rdrecord(str(p), channels=[0, 1], physical=False).d_signal for p in parts]
    need = int(hours * 3600 * 360)
    signal = np.concatenate(chunks * (1 + need // sum(len(c) for c in chunks)))[:need]
    wfdb.wrsamp("long", fs=360, units=["mV", "mV"], sig_name=["MLII", "V1"], d_signal=signal.astype(np.int32),
                fmt=["212", "212"], adc_gain=[200.0, 200.0], baseline=[1024, 1024], write_dir=str(folder))
    return str(folder / "long")


def peak_rss_mib(path: str) -> float:
    out = subprocess.run([sys.executable, "-c", RSS_PROBE, path], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) / 1024


def truth(path: str, key: str, span_s: float) -> tuple[list[tuple[float, float]], np.ndarray]:
    """The paper's intervals for beat type `key` over the first `span_s` seconds, and the target beats' times."""
    from anyecg.io import read_record
    from anyecg.signal.intervals import beat_intervals
    from anyecg.timebase import to_samples

    rec = read_record(path, end_s=span_s)
    beats = rec.beats
    times = np.array([s / rec.fs for s, sym in zip(beats.sample, beats.symbol, strict=True)
                      if sym == key and s / rec.fs < span_s])  # the annotations cover the whole record
    return beat_intervals(beats.sample, beats.symbol, key, 0, to_samples(span_s, rec.fs), rec.fs), times


def counts(result, path: str, span_s: float, key: str) -> tuple[int, int, int, int, float]:
    """Annotated `key` beats inside a found episode, annotated beats, found episodes holding one, found episodes,
    and the burden error (points of the span) against the paper's intervals."""
    true_iv, true_beats = truth(path, key, span_s)
    found = [(e.start_s, e.end_s) for e in result.episodes if e.target == key and e.start_s < span_s]
    hit = sum(any(a - 1e-6 <= t <= b + 1e-6 for a, b in found) for t in true_beats)
    held = sum(any(a - 1e-6 <= t <= b + 1e-6 for t in true_beats) for a, b in found)
    burden_true = 100 * sum(b - a for a, b in true_iv) / span_s
    burden = 100 * sum(min(b, span_s) - a for a, b in found) / span_s
    return hit, len(true_beats), held, len(found), abs(burden - burden_true)


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "-"


def quality(result, path: str, span_s: float) -> str:
    rows = []
    for key in ("V", "A"):
        hit, n_true, held, n_found, error = counts(result, path, span_s, key)
        rows.append(f"{key}: sens {_ratio(hit, n_true)} PPV {_ratio(held, n_found)} ({n_true} beats, {n_found} "
                    f"episodes), burden error {error:.1f}")
    return "; ".join(rows)


def bench_findings(records: list[str], hours: float) -> None:
    import wfdb

    from anyecg.scan import scan

    with tempfile.TemporaryDirectory() as tmp:
        long = concatenated(Path(tmp), hours)
        for path in [*records, long]:
            t0 = time.perf_counter()
            wfdb.rdrecord(path)
            t_read = time.perf_counter() - t0
            t0 = time.perf_counter()
            res = scan(None, path, engine="findings", progress=False)
            took = time.perf_counter() - t0
            print(f"findings engine, {Path(path).name} ({res.duration_s / 3600:.2f} h): {took:.1f} s = "
                  f"{res.duration_s / took:.0f}x real time; {took / t_read:.1f}x a plain wfdb.rdrecord "
                  f"({t_read:.1f} s); {res.findings.n_beats} beats, {len(res.episodes)} episodes")
            if path != long:
                print(f"  vs annotations: {quality(res, path, res.duration_s)}")
        short, longer = peak_rss_mib(records[0]), peak_rss_mib(long)
        print(f"findings engine peak RSS: 30 min {short:.0f} MiB, {hours:g} h {longer:.0f} MiB "
              f"(ratio {longer / short:.2f})")


def span_copy(path: str, span_s: float, folder: Path) -> str:
    import wfdb

    from anyecg.io import read_record

    rec = read_record(path, end_s=span_s, annotations=False)
    name = f"{Path(path).name}_{int(span_s)}"
    wfdb.wrsamp(name, fs=rec.fs, units=["mV"] * len(rec.leads), sig_name=list(rec.leads),
                p_signal=np.nan_to_num(rec.signal.T), fmt=["16"] * len(rec.leads), write_dir=str(folder))
    return str(folder / name)


def bench_llm(records: list[str], llm_minutes: float, compare_minutes: float, threads: int) -> None:
    import torch

    from anyecg import ECGChat
    from anyecg.scan import scan

    torch.set_num_threads(threads)
    chat = ECGChat.load()
    with tempfile.TemporaryDirectory() as tmp:
        for path in records:
            runs = [(compare_minutes, ("agree", "head", "findings"))]
            if llm_minutes != compare_minutes:
                runs.insert(0, (llm_minutes, ("agree",)))
            for minutes, screens in runs:
                copy = span_copy(path, minutes * 60, Path(tmp))
                for screen in screens:
                    t0 = time.perf_counter()
                    res = scan(chat, copy, engine="llm", progress=False, screen=screen)
                    took = time.perf_counter() - t0
                    label = {"findings": "llm engine, findings screen",
                             "head": "llm engine, beat-head screen (its default; release 2's rule)",
                             "agree": "llm engine, agree screen (the LLM where the head and the read disagree)"}[screen]
                    print(f"{label}, {Path(path).name} first {minutes:g} min: {took:.1f} s = "
                          f"{res.duration_s / took:.1f}x real time; {res.n_questions} questions to the LLM, "
                          f"{res.n_prescreened} answered none and {res.n_from_read} with the read's intervals "
                          "without it")
                    print(f"  vs annotations: {quality(res, path, res.duration_s)}")


def bench_ds2(minutes: float, baseline: str | None, threads: int) -> None:
    import torch

    from anyecg import ECGChat
    from anyecg.eval.windows import DS2
    from anyecg.scan import scan

    torch.set_num_threads(threads)
    engines: list[tuple[str, ECGChat | None]] = [
        ("findings engine (no model)", None),
        ("llm engine, shipped model (verified, the default)", ECGChat.load(max_new_tokens=96)),
        ("llm engine, shipped model, --no-verify", ECGChat.load(max_new_tokens=96, verify=False))]
    if baseline:
        engines.append((f"llm engine, {baseline}", ECGChat.load(baseline, max_new_tokens=96)))
    span = minutes * 60
    print(f"DS2, first {minutes:g} min of each of {len(DS2)} records: V and A beats inside a found episode "
          "(sensitivity), found episodes holding one (PPV), mean burden error per record (points)")
    for label, chat in engines:
        tally = {key: np.zeros(5) for key in ("V", "A")}
        took = 0.0
        for name in DS2:
            path = str(SHARED / "mitdb" / name)
            t0 = time.perf_counter()
            res = scan(chat, path, engine="findings" if chat is None else "llm", end_s=span, progress=False)
            took += time.perf_counter() - t0
            for key in tally:
                tally[key] += counts(res, path, span, key)
        row = "; ".join(f"{key}: sens {_ratio(int(t[0]), int(t[1]))} PPV {_ratio(int(t[2]), int(t[3]))}, burden "
                        f"error {t[4] / len(DS2):.1f}" for key, t in tally.items())
        print(f"{label}: {row}; {len(DS2) * span / took:.1f}x real time ({took:.0f} s)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", default="208,100")
    p.add_argument("--hours", type=float, default=24.0)
    p.add_argument("--llm-minutes", type=float, default=30.0)
    p.add_argument("--compare-minutes", type=float, default=5.0)
    p.add_argument("--parts", default="findings,llm")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ds2-minutes", type=float, default=5.0)
    p.add_argument("--baseline", default=None, help="a model directory for the ds2 part's baseline row")
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not (SHARED / "mitdb" / "208.hea").exists():
        sys.exit(f"needs MIT-BIH in {SHARED / 'mitdb'}")
    records = [str(SHARED / "mitdb" / r) for r in args.records.split(",")]
    parts = set(args.parts.split(","))
    if "findings" in parts:
        bench_findings(records, args.hours)
    if "llm" in parts:
        bench_llm(records, args.llm_minutes, args.compare_minutes, args.threads)
    if "ds2" in parts:
        bench_ds2(args.ds2_minutes, args.baseline, args.threads)


if __name__ == "__main__":
    main()
