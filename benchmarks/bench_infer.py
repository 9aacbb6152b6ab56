"""Inference cost of the ECG path: a 10 s 12-lead question to SmolLM2 (real GGUF) with the tiny encoder.

Prints: encoder + connector time and its share of the answer time (target ≤ 10%), time to first token, and
decode tokens/s of our model vs the LLM alone on a text prompt of the same token length
(target ratio ≥ 0.95), and time to first token for a 60 s 2-lead ECG with encoder tokens all vs present_leads.
Both sides generate exactly --new-tokens tokens, greedy, KV cache; runs interleave and
the median of --repeats is reported.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_infer.py [--threads 1] [--new-tokens 64] [--repeats 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from collections.abc import Callable

import torch

from anyecg.model.anyecg_chat import AnyECGChatModel
from anyecg.model.config import ModelConfig, encoder_preset
from anyecg.testing.tiny import synthetic_ecg

QUESTION = "<ecg>\nWrite the report for this ECG."


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (the CPU is shared)")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-merge", action="store_true", help="keep LoRA unmerged (training-time graph)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    start = time.perf_counter()
    model = AnyECGChatModel.from_config(ModelConfig(encoder=encoder_preset("tiny"), llm="smollm2")).eval()
    load_s = time.perf_counter() - start
    if not args.no_merge:
        model.merge_lora()
    batch = model.processor()([[{"role": "user", "content": QUESTION}]], [[synthetic_ecg(10)]],
                              add_generation_prompt=True)
    n_prompt = batch["input_ids"].shape[1]
    # Same-length text prompt: every ECG token id replaced by an ordinary word.
    word = model.tokenizer(" ECG", add_special_tokens=False)["input_ids"][0]
    text_ids = torch.where(torch.isin(batch["input_ids"], torch.tensor(model.tokens.ids)), word, batch["input_ids"])
    mask = batch["attention_mask"]
    n_new = args.new_tokens

    def ours(n: int) -> object:
        return model.generate(batch, max_new_tokens=n, min_new_tokens=n)

    def llm_alone(n: int) -> object:
        # Merged: the q/k weights already hold LoRA, the graph is the bare LLM's. Unmerged: switch LoRA off.
        with contextlib.nullcontext() if model.lora_merged else model.llm.disable_adapter():
            return model.llm.generate(input_ids=text_ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n,
                                      do_sample=False, pad_token_id=model.tokenizer.pad_token_id)

    with torch.no_grad():
        ours(4), llm_alone(4)  # warm-up
        t = {k: [] for k in ("enc", "ours_1", "ours_n", "base_1", "base_n")}
        for _ in range(args.repeats):
            t["enc"].append(timed(lambda: model.encode_ecg(**{k: batch[k] for k in model.kind.batch_keys})))
            t["ours_1"].append(timed(lambda: ours(1)))
            t["base_1"].append(timed(lambda: llm_alone(1)))
            t["ours_n"].append(timed(lambda: ours(n_new)))
            t["base_n"].append(timed(lambda: llm_alone(n_new)))
        ttft_2lead = {}
        for mode in ("all", "present_leads"):  # the same encoder weights serve both token modes
            model.cfg.encoder.tokens = mode
            two_lead = model.processor()([[{"role": "user", "content": QUESTION}]],
                                         [[synthetic_ecg(60, leads=[1, 6])]], add_generation_prompt=True)
            runs = [timed(lambda b=two_lead: model.generate(b, max_new_tokens=1)) for _ in range(args.repeats)]
            ttft_2lead[mode] = (statistics.median(runs), int((two_lead["input_ids"] == model.tokens.pad_id).sum()))
        model.cfg.encoder.tokens = "all"
    m = {k: statistics.median(v) for k, v in t.items()}
    ours_rate = (n_new - 1) / (m["ours_n"] - m["ours_1"])
    base_rate = (n_new - 1) / (m["base_n"] - m["base_1"])
    print(f"device: CPU, {args.threads} thread(s); model load {load_s:.1f} s; prompt {n_prompt} tokens "
          f"(61 ECG slots); {n_new} new tokens; median of {args.repeats}; LoRA "
          f"{'merged' if model.lora_merged else 'unmerged'}")
    print(f"encoder + connector:       {m['enc'] * 1e3:8.1f} ms  = {100 * m['enc'] / m['ours_n']:.2f}% of the "
          f"answer time {m['ours_n']:.2f} s (target ≤ 10%)")
    print(f"time to first token:       {m['ours_1'] * 1e3:8.1f} ms  (LLM alone, same-length text prompt: "
          f"{m['base_1'] * 1e3:.1f} ms)")
    print(f"decode:                    {ours_rate:8.1f} tok/s (LLM alone: {base_rate:.1f} tok/s) ratio "
          f"{ours_rate / base_rate:.3f} (target ≥ 0.95)")

    (t_all, n_all), (t_present, n_present) = ttft_2lead["all"], ttft_2lead["present_leads"]
    print(f"60 s 2-lead ECG, time to first token: tokens all {n_all} slots {t_all * 1e3:.1f} ms, "
          f"present_leads {n_present} slots {t_present * 1e3:.1f} ms ({t_all / t_present:.2f}× faster)")


if __name__ == "__main__":
    main()
