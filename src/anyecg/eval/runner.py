"""Batched, resumable inference: predictions are appended per sample id to a JSONL cache in the output dir."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from anyecg.eval.predictors import Predictor
from anyecg.eval.samples import EvalSample

log = logging.getLogger(__name__)


def load_cache(path: Path) -> dict[str, str]:
    """id -> prediction from a cache file (a truncated last line, from an interrupted run, is ignored)."""
    cache: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            cache[row["id"]] = row["prediction"]
    return cache


def run_predictions(
    predictor: Predictor,
    samples: Sequence[EvalSample],
    cache_path: Path,
    *,
    batch_size: int = 8,
    mask_leads: dict[str, tuple[str, ...]] | None = None,
    desc: str = "predict",
) -> dict[str, str]:
    """Predictions for every sample id, reusing `cache_path` and appending each finished batch to it.

    `mask_leads[id]` (optional) lists the leads to zero for that sample (lead-masking ablations).
    """
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache = load_cache(cache_path)
    todo = [s for s in samples if s.id not in cache]
    if len(todo) < len(samples):
        log.info("%s: %d of %d predictions cached in %s", desc, len(samples) - len(todo), len(samples), cache_path)
    if cache_path.is_file() and cache_path.stat().st_size and not cache_path.read_bytes().endswith(b"\n"):
        with open(cache_path, "a") as out:
            out.write("\n")  # end the truncated line of an interrupted run
    with open(cache_path, "a") as out, tqdm(total=len(todo), desc=desc, unit="sample") as bar:
        for i in range(0, len(todo), batch_size):
            batch = todo[i:i + batch_size]
            masks = [mask_leads.get(s.id, ()) for s in batch] if mask_leads else None
            answers = predictor.predict(batch, masks)
            for sample, answer in zip(batch, answers, strict=True):
                cache[sample.id] = answer
                out.write(json.dumps({"id": sample.id, "prediction": answer}) + "\n")
            out.flush()
            bar.update(len(batch))
    return {s.id: cache[s.id] for s in samples}
