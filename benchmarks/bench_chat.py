"""The embedded model as a user meets it: start-up, one question, and scans of long recordings.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_chat.py [--parts cold,warm,ask,overhead,scan,memory]
        [--scan-minutes 30] [--unscreened-minutes 5] [--memory-windows 20] [--threads 2] [--device cuda]

1. cold start: `ECGChat.load()` in a fresh process with an empty `$ANYECG_CACHE` (the GGUF is dequantized and
   cached); warm start: the same with the cache in place. Both include `import anyecg`.
2. a 10 s 12-lead question (CPSC2018 A0101 from ../shared/data when present, else a generated 12-lead record):
   time to first token (streaming) and full-answer time, end to end from the file; baseline: the same answer
   from an already prepared ECG (the model alone), so the ratio is what reading + preprocessing adds.
3. overhead: per 10 s window of MIT-BIH 208, the time of reading + preprocessing, the prescreen and the processor
   of one question, against answering that question: what bounds a scan once the LLM is fast (e.g. on a GPU).
4. scan of a 30-minute 2-lead record (MIT-BIH 208 when present, else the demo excerpt repeated), V,A,L,R in
   10 s windows (the scan default): time as a multiple of real time, with the beat prescreen (default) and without it on the first
   `--unscreened-minutes` (the LLM asked every question; the baseline), with the agreement of the two (episode
   overlap per target) on that span.
5. memory: peak RSS (VmHWM) of a scan process over the first `--memory-windows` windows of a 30-minute and of a
   24-hour record (MIT-BIH records concatenated): flat in duration means the scan holds one window at a time.
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
LOAD_PROBE = """
import time; t = time.perf_counter()
from anyecg import ECGChat
ECGChat.load()
print(time.perf_counter() - t)
"""
MEMORY_PROBE = """
import sys, time
import torch
torch.set_num_threads(int(sys.argv[3]))
from anyecg import ECGChat
from anyecg.scan import scan

def status(key):  # kB; VmHWM = this process's own peak
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(key))

chat = ECGChat.load()
loaded = status("VmHWM:")
class Enough(Exception):
    pass
def stop(done, total):
    if done >= int(sys.argv[2]):
        raise Enough
try:
    scan(chat, sys.argv[1], progress=False, on_window=stop)
except Enough:
    pass
print(loaded, status("VmHWM:"))
"""


def run_probe(code: str, *args: str, env: dict[str, str] | None = None) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    if out.returncode:
        raise SystemExit(f"probe failed:\n{out.stderr[-2000:]}")
    return out.stdout.split()


def bench_start(cold: bool) -> None:
    if cold:
        with tempfile.TemporaryDirectory() as cache:
            seconds = float(run_probe(LOAD_PROBE, env={"ANYECG_CACHE": cache})[0])
        print(f"cold start (empty cache: dequantize GGUF + cache): {seconds:.1f} s")
    seconds = float(run_probe(LOAD_PROBE)[0])
    print(f"warm start (import + load, cache in place):       {seconds:.1f} s")


def twelve_lead(folder: Path) -> str:
    cpsc = SHARED / "cpsc2018-a0001-a0150" / "A0101"
    if cpsc.with_suffix(".hea").exists():
        return str(cpsc)
    import wfdb

    from anyecg.leads import CANONICAL_LEADS

    t = np.arange(5000) / 500
    beat = np.exp(-((t % 0.8) - 0.2) ** 2 / 2e-4)
    sig = np.stack([beat * (1 + 0.1 * k) for k in range(12)], axis=1)
    wfdb.wrsamp("twelve", fs=500, units=["mV"] * 12, sig_name=list(CANONICAL_LEADS), p_signal=sig,
                fmt=["16"] * 12, write_dir=str(folder))
    return str(folder / "twelve")


def bench_ask(chat, folder: Path) -> None:
    from anyecg.chat import REPORT_QUESTION, prepare

    record = twelve_lead(folder)
    chat.ask(record, REPORT_QUESTION, max_new_tokens=4)  # warm-up
    t0 = time.perf_counter()
    first = None
    text = ""
    for piece in chat.stream(record, REPORT_QUESTION):
        if first is None and piece.strip():
            first = time.perf_counter() - t0
        text += piece
    total = time.perf_counter() - t0
    n_tokens = len(chat.processor.tokenizer(text, add_special_tokens=False)["input_ids"])
    prepared = [prepare(record)]
    t1 = time.perf_counter()
    chat.ask_prepared([(prepared, REPORT_QUESTION)])
    model_only = time.perf_counter() - t1
    print(f"10 s 12-lead question ({Path(record).name}): time to first token {first:.2f} s, full answer "
          f"{total:.2f} s ({n_tokens} tokens); model alone on the prepared ECG {model_only:.2f} s "
          f"→ end-to-end / model-only {total / model_only:.2f}")
    print(f"  answer: {text.strip()[:160]!r}")


def bench_overhead(chat, folder: Path, n_windows: int = 30) -> None:
    """Where a scan's time goes per 10 s window: reading + preprocessing, the prescreen, the processor (beat
    detection, hints, tokens) of one question, against the LLM answering that question (batch of 1)."""
    from anyecg.chat import ECG, LOCATE_QUESTION, prepare

    mitdb = SHARED / "mitdb" / "208"
    record = str(mitdb) if mitdb.with_suffix(".hea").exists() else long_record(folder, n_windows * 10 / 3600, "tiled")
    question = LOCATE_QUESTION.format(X="Premature ventricular contraction")
    conv = chat._conversation(1, question, [])

    def per_window(step) -> float:
        t0 = time.perf_counter()
        for k in range(n_windows):
            step(k)
        return (time.perf_counter() - t0) / n_windows

    windows = [prepare(ECG(record, 10 * k, 10 * k + 10)) for k in range(n_windows)]
    read = per_window(lambda k: prepare(ECG(record, 10 * k, 10 * k + 10)))
    screen = per_window(lambda k: chat.beat_classes(windows[k]))
    proc = per_window(lambda k: chat.processor([conv], [[windows[k].input]], add_generation_prompt=True,
                                               padding_side="left"))
    answer = per_window(lambda k: chat.ask_prepared([([windows[k]], question)]))  # includes the processor
    print(f"per 10 s window of {Path(record).name} ({n_windows} windows): read + preprocess {read * 1e3:.0f} ms, "
          f"prescreen {screen * 1e3:.0f} ms, processor per question {proc * 1e3:.0f} ms; one V question answered "
          f"{answer * 1e3:.0f} ms → perception is {(read + screen + proc) / (read + screen + answer):.0%} of a "
          f"window with one question")


def long_record(folder: Path, hours: float, name: str) -> str:
    """A 2-lead 360 Hz WFDB record of `hours`: MIT-BIH records concatenated (the demo excerpt without them)."""
    import wfdb

    parts = [SHARED / "mitdb" / r for r in ("208", "100", "119", "213")]
    if all(p.with_suffix(".hea").exists() for p in parts):
        chunks = [wfdb.rdrecord(str(p), channels=[0, 1], physical=False).d_signal for p in parts]
    else:
        from anyecg.demo import demo_record

        one = wfdb.rdrecord(str(demo_record(folder)), physical=False).d_signal
        chunks = [np.concatenate([one, one], axis=1)]
    need = int(hours * 3600 * 360)
    signal = np.concatenate(chunks * (1 + need // sum(len(c) for c in chunks)))[:need]
    wfdb.wrsamp(name, fs=360, units=["mV", "mV"], sig_name=["MLII", "V1"], d_signal=signal.astype(np.int32),
                fmt=["212", "212"], adc_gain=[200.0, 200.0], baseline=[1024, 1024], write_dir=str(folder))
    return str(folder / name)


def overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    """Intersection over union of two sets of disjoint intervals (1.0 when both are empty)."""
    def total(xs):
        return sum(e - s for s, e in xs)
    inter = sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)
    union = total(a) + total(b) - inter
    return 1.0 if union <= 0 else inter / union


def bench_scan(chat, folder: Path, minutes: float, unscreened_minutes: float) -> None:
    mitdb = SHARED / "mitdb" / "208"
    record = str(mitdb) if mitdb.with_suffix(".hea").exists() else long_record(folder, minutes / 60, "tiled")
    t0 = time.perf_counter()
    res = scan_span(chat, record, minutes * 60, prescreen=True)
    seconds = time.perf_counter() - t0
    print(f"scan {Path(record).name} ({res.duration_s / 60:.0f} min, V,A,L,R, 10 s windows, prescreen): "
          f"{seconds:.1f} s = {res.duration_s / seconds:.1f}x real time; {res.n_questions} questions to the LLM, "
          f"{res.n_prescreened} screened out; episodes {[(r['target'], r['episodes']) for r in res.summary()]}")
    span = unscreened_minutes * 60
    runs = {}
    for prescreen in (False, True):
        t0 = time.perf_counter()
        part = scan_span(chat, record, span, prescreen)
        runs[prescreen] = (part, time.perf_counter() - t0)
    (plain, t_plain), (screened, t_screened) = runs[False], runs[True]
    agree = {t.key: overlap([(e.start_s, e.end_s) for e in plain.episodes if e.target == t.key],
                            [(e.start_s, e.end_s) for e in screened.episodes if e.target == t.key])
             for t in plain.targets}
    print(f"first {span / 60:g} min: LLM on every question {t_plain:.1f} s ({span / t_plain:.1f}x real time, "
          f"{plain.n_questions} questions) vs prescreen {t_screened:.1f} s ({span / t_screened:.1f}x, "
          f"{screened.n_questions} questions) → speed-up {t_plain / t_screened:.2f}x; agreement (IoU of flagged "
          f"time, 1 = same) {', '.join(f'{k} {v:.2f}' for k, v in agree.items())}")


def scan_span(chat, record: str, span_s: float, prescreen: bool):
    """Scan the first `span_s` seconds of a record (copied to a temporary WFDB record first)."""
    import wfdb

    from anyecg.io import read_record
    from anyecg.scan import scan

    with tempfile.TemporaryDirectory() as tmp:
        rec = read_record(record, end_s=span_s, annotations=False)
        wfdb.wrsamp("span", fs=rec.fs, units=["mV"] * len(rec.leads), sig_name=list(rec.leads),
                    p_signal=np.nan_to_num(rec.signal.T), fmt=["16"] * len(rec.leads), write_dir=tmp)
        return scan(chat, f"{tmp}/span", progress=False, prescreen=prescreen)


def bench_memory(folder: Path, n_windows: int, threads: int) -> None:
    rows = []
    for hours, name in ((0.5, "rec30min"), (24.0, "rec24h")):
        path = long_record(folder, hours, name)
        loaded, peak = (int(v) for v in run_probe(MEMORY_PROBE, path, str(n_windows), str(threads)))
        rows.append((hours, loaded, peak))
        print(f"scan memory, {hours:g} h record, first {n_windows} windows: peak RSS {peak / 1024:.0f} MiB "
              f"(model loaded: {loaded / 1024:.0f} MiB)")
    print(f"peak RSS 24 h / 30 min: {rows[1][2] / rows[0][2]:.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", default="cold,warm,ask,overhead,scan,memory")
    p.add_argument("--scan-minutes", type=float, default=30.0)
    p.add_argument("--unscreened-minutes", type=float, default=5.0)
    p.add_argument("--memory-windows", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="torch device of the ask and scan parts (cpu, cuda)")
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parts = set(args.parts.split(","))
    import torch

    torch.set_num_threads(args.threads)
    print(f"torch threads {args.threads}, {os.cpu_count()} CPUs")
    if parts & {"cold", "warm"}:
        bench_start(cold="cold" in parts)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if parts & {"ask", "scan", "overhead"}:
            from anyecg import ECGChat

            chat = ECGChat.load(device=args.device)
            print(f"ask/scan device: {args.device}")
            if "overhead" in parts:
                bench_overhead(chat, folder)
            if "ask" in parts:
                bench_ask(chat, folder)
            if "scan" in parts:
                bench_scan(chat, folder, args.scan_minutes, args.unscreened_minutes)
        if "memory" in parts:
            bench_memory(folder, args.memory_windows, args.threads)


if __name__ == "__main__":
    main()
