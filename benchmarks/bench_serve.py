"""Serving overhead and load: `anyecg serve` on loopback against calling `ECGChat` directly.

    nice -n 10 python benchmarks/bench_serve.py [--model CKPT] [--clients 8 --seconds 60 --ecg-seconds 10]

1. Direct: `ECGChat.ask(record, question)` in this process, one call at a time (median latency).
2. One client: the same question over HTTP (the evaluation client's ECG content part: a base64 WFDB zip),
   one request at a time → p50 latency and the ratio server / direct (target ≤ 1.1×).
3. N clients for a bounded time: throughput, p50/p95 latency, errors, deliberate 429s (queue full).
Without --model a tiny random checkpoint is built (answers are noise; the timings are of the plumbing plus a
small LLM). Both sides use the same number of torch threads (--threads) and greedy decoding.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import torch

from anyecg.chat import ECGChat
from anyecg.testing.server import ServerProcess, ecg_part, tiny_checkpoint, write_wfdb

QUESTION = "Locate the premature ventricular contractions on this ECG for me, please."


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def direct(chat: ECGChat, record: Path, seconds: float, max_tokens: int) -> list[float]:
    chat.ask(record, QUESTION, max_new_tokens=max_tokens)  # warm-up
    out: list[float] = []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop or len(out) < 5:
        t = time.perf_counter()
        chat.ask(record, QUESTION, max_new_tokens=max_tokens)
        out.append(time.perf_counter() - t)
    return out


def load(url: str, body: dict, clients: int, seconds: float) -> tuple[list[float], dict[int, int], float]:
    """`clients` threads posting `body` back to back for `seconds`: latencies of 200s, counts per status."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        with httpx.Client(timeout=300) as http:
            while time.monotonic() < stop:
                t = time.perf_counter()
                try:
                    code = http.post(f"{url}/v1/chat/completions", json=body).status_code
                except httpx.HTTPError:
                    code = -1
                with lock:
                    statuses[code] = statuses.get(code, 0) + 1
                    if code == 200:
                        latencies.append(time.perf_counter() - t)
                if code == 429:
                    time.sleep(0.2)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return latencies, statuses, time.perf_counter() - started


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=None, help="checkpoint directory (default: tiny random)")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--seconds", type=float, default=60.0, help="duration of the N-client phase")
    p.add_argument("--baseline-seconds", type=float, default=20.0, help="duration of the direct / 1-client phases")
    p.add_argument("--ecg-seconds", type=float, default=10.0)
    p.add_argument("--max-tokens", type=int, default=16)
    p.add_argument("--threads", type=int, default=1, help="torch threads, both sides")
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--queue", type=int, default=16)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        model = args.model or tiny_checkpoint(Path(tmp) / "ckpt")
        record = write_wfdb(Path(tmp), "bench", args.ecg_seconds)
        chat = ECGChat.load(model, max_new_tokens=args.max_tokens)
        base = direct(chat, record, args.baseline_seconds, args.max_tokens)
        del chat
        body = {"model": "anyecg", "max_tokens": args.max_tokens, "temperature": 0,
                "messages": [{"role": "user", "content": [ecg_part(record), {"type": "text", "text": QUESTION}]}]}
        with ServerProcess(model, "--concurrency", str(args.concurrency), "--queue", str(args.queue),
                           "--max-tokens", str(args.max_tokens), "--timeout", "300", threads=args.threads) as srv:
            load(srv.url, body, 1, 2.0)  # warm-up
            one, one_status, _ = load(srv.url, body, 1, args.baseline_seconds)
            many, many_status, elapsed = load(srv.url, body, args.clients, args.seconds)

    d50, s50 = statistics.median(base), statistics.median(one)
    errors = sum(n for code, n in many_status.items() if code not in (200, 429))
    errors += sum(n for code, n in one_status.items() if code != 200)
    print(f"bench_serve: {args.ecg_seconds:g} s 2-lead ECG, max_tokens {args.max_tokens}, torch threads "
          f"{args.threads}, server concurrency {args.concurrency} queue {args.queue}")
    print(f"  direct ECGChat.ask        : n={len(base):4d}  p50 {d50 * 1000:7.1f} ms  p95 {pct(base, .95) * 1000:7.1f} ms")
    print(f"  server, 1 client          : n={len(one):4d}  p50 {s50 * 1000:7.1f} ms  p95 {pct(one, .95) * 1000:7.1f} ms")
    print(f"  ratio server/direct (p50) : {s50 / d50:.3f}x   (target <= 1.1x)")
    print(f"  server, {args.clients} clients, {elapsed:.0f} s: {len(many)} answers, {len(many) / elapsed:.2f} req/s, "
          f"p50 {statistics.median(many) * 1000 if many else float('nan'):.1f} ms, "
          f"p95 {pct(many, .95) * 1000:.1f} ms, 429s {many_status.get(429, 0)}, errors {errors}")
    print(f"  direct throughput (1 caller): {len(base) / sum(base):.2f} req/s")


if __name__ == "__main__":
    main()
