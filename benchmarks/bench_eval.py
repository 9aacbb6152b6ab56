"""Evaluation throughput: batched vs one-by-one, for the U-Net predictor and for an HTTP endpoint.

    python benchmarks/bench_eval.py [--mitdb ../shared/data/mitdb] [--n 64]

U-Net: the same 10 s DS2 windows answered with batch 32 and with batch 1 (samples/s, ratio).
Endpoint: `EndpointPredictor` against a local OpenAI-compatible stub (127.0.0.1, 50 ms per answer, like a
small served model) with 8 requests in flight vs 1. Both through `run_predictions`, as `anyecg eval` runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from anyecg.eval.predictors import EndpointPredictor
from anyecg.eval.runner import run_predictions
from anyecg.eval.unet import WEIGHTS, UNet1D, UNetConfig, UNetPredictor, save_unet
from anyecg.eval.windows import mitdb_windows


class _Stub(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(0.05)
        payload = json.dumps({"choices": [{"message": {"content": "No Premature ventricular contraction Found"}}]})
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload.encode())


def _rate(predictor, samples, batch_size: int, tmp: Path) -> float:
    cache = tmp / f"{predictor.name.replace('/', '_').replace(':', '_')}-{batch_size}-{time.time_ns()}.jsonl"
    t0 = time.perf_counter()
    run_predictions(predictor, samples, cache, batch_size=batch_size, desc=f"batch {batch_size}")
    return len(samples) / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mitdb", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/mitdb")
    ap.add_argument("--n", type=int, default=64)
    args = ap.parse_args()
    samples = mitdb_windows(args.mitdb, records=("100", "105", "119", "200", "208", "233"), n_pos=4, n_neg=2)
    samples = samples[: args.n]
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        weights = WEIGHTS
        if not weights.is_file():
            weights = tmp / "random.safetensors"
            save_unet(UNet1D(UNetConfig()).eval(), weights, {"command": "bench (untrained)"})
        unet = UNetPredictor(weights)
        _rate(unet, samples[:4], 4, tmp)  # warm-up
        batched, single = _rate(unet, samples, 32, tmp), _rate(unet, samples, 1, tmp)
        print(f"U-Net on {len(samples)} windows: batched (32) {batched:.1f} samples/s, one-by-one "
              f"{single:.1f} samples/s, ratio {batched / single:.2f}x")

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        few = samples[:32]
        conc = _rate(EndpointPredictor(url, concurrency=8), few, 8, tmp)
        one = _rate(EndpointPredictor(url, concurrency=1), few, 1, tmp)
        httpd.shutdown()
        print(f"endpoint (50 ms stub) on {len(few)} samples: 8 in flight {conc:.1f} samples/s, one-by-one "
              f"{one:.1f} samples/s, ratio {conc / one:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
