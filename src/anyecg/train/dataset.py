"""Streaming training data: JSONL samples → mixed, shuffled, sharded batches with their ECGs loaded.

One epoch's order is a pure function of (seed, epoch, line counts, weights):
1. **mix**: the sources' lines are interleaved uniformly at random, each source's lines in a fresh random order
   each epoch (read by byte offset, so a file sorted by database still gives a short run a fair draw of it), each
   line used floor(w) times plus once more with probability frac(w) — `weight: 0.1` replays a fresh 10% each epoch;
2. **shuffle**: a buffer of `shuffle_buffer` raw lines, seeded per epoch;
3. **batch**: consecutive groups of `batch_size` lines form global batch j = 0, 1, ...;
4. **shard**: global batch j belongs to process j % P; within a process, to DataLoader worker (j // P) % W.
Every worker reads all lines (cheap) but parses, loads ECGs and tokenizes only its own batches, so the batch
sequence does not depend on the number of workers, and a resume skips the consumed batches exactly
(`set_position`) without loading their ECGs. With several processes only complete rounds of P batches are
used, so every process runs the same number of steps.
"""

from __future__ import annotations

import json
import logging
import math
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from anyecg.errors import AnyECGError, ConfigError
from anyecg.train.config import SourceConfig

log = logging.getLogger(__name__)


def line_offsets(path: str | Path) -> np.ndarray:
    """Byte offsets of the non-blank lines of a JSONL file (int64)."""
    offsets, pos = [], 0
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.strip():
                    offsets.append(pos)
                pos += len(line)
    except OSError as err:
        raise ConfigError(f"cannot read data file: {err.strerror}", path) from None
    return np.asarray(offsets, dtype=np.int64)


def shuffle_buffer(items: Iterator[Any], size: int, rng: random.Random) -> Iterator[Any]:
    """Approximate shuffle with a buffer of `size` items (deterministic for a seeded `rng`)."""
    buf: list[Any] = []
    for item in items:
        if len(buf) < size:
            buf.append(item)
            continue
        i = rng.randrange(size)
        yield buf[i]
        buf[i] = item
    rng.shuffle(buf)
    yield from buf


@dataclass
class EpochPlan:
    """Which source each mixed line comes from, and how many times each line is used."""

    order: np.ndarray  # int16 [sum of line counts]: source index of each successive line read
    repeats: list[np.ndarray]  # per source: int32 [line count], uses of each line this epoch
    lines: list[np.ndarray]  # per source: the order its lines are read in this epoch (a permutation)

    @property
    def n_samples(self) -> int:
        return int(sum(int(r.sum()) for r in self.repeats))


class JsonlMixture(IterableDataset):
    """Batches of samples from weighted JSONL sources; yields `collate(list_of_sample_dicts)`.

    `collate` receives parsed JSON samples and returns a batch (dict) or None when no sample in it was usable.
    Set `set_epoch`/`set_position` before creating the DataLoader iterator (use `DataLoader(batch_size=None)`).
    """

    def __init__(self, sources: list[SourceConfig], *, batch_size: int, collate: Callable[[list[dict]], Any],
                 seed: int = 42, shuffle_buffer: int = 1000, process_index: int = 0, num_processes: int = 1):
        if not sources:
            raise ConfigError("data.sources is empty: give at least one JSONL file")
        self.paths = [str(s.path) for s in sources]
        self.weights = [float(s.weight) for s in sources]
        self.offsets = [line_offsets(p) for p in self.paths]
        self.counts = [len(o) for o in self.offsets]
        if sum(self.counts) == 0:
            raise ConfigError(f"no samples in {', '.join(self.paths)}")
        self.batch_size = batch_size
        self.collate = collate
        self.seed = seed
        self.buffer = max(1, shuffle_buffer)
        self.process_index = process_index
        self.num_processes = num_processes
        self.epoch = 0
        self.start_batch = 0  # batches of this process already consumed in `epoch`

    # ---- position -------------------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        self.epoch, self.start_batch = epoch, 0

    def set_position(self, epoch: int, batch: int) -> None:
        """Resume: the next iterator starts at this process's `batch`-th batch of `epoch`."""
        self.epoch, self.start_batch = epoch, batch

    def plan(self, epoch: int) -> EpochPlan:
        rng = np.random.default_rng([self.seed, epoch])
        labels = np.repeat(np.arange(len(self.paths), dtype=np.int16), self.counts)
        repeats = []
        for n, w in zip(self.counts, self.weights, strict=True):
            whole, frac = divmod(w, 1.0)
            repeats.append((int(whole) + (rng.random(n) < frac)).astype(np.int32))
        order = rng.permutation(labels)
        lines = np.random.default_rng([self.seed, epoch, 1])
        return EpochPlan(order=order, repeats=repeats, lines=[lines.permutation(n) for n in self.counts])

    def batches_per_epoch(self, epoch: int) -> int:
        """Batches this process gets in `epoch` (same for every process)."""
        n_global = math.ceil(self.plan(epoch).n_samples / self.batch_size)
        return n_global if self.num_processes == 1 else n_global // self.num_processes

    # ---- iteration ------------------------------------------------------------------------------------
    def _mixed_lines(self, plan: EpochPlan) -> Iterator[str]:
        files = [open(p, "rb") for p in self.paths]  # noqa: SIM115 (closed below)
        try:
            taken = [0] * len(self.paths)
            for src in plan.order.tolist():
                k = plan.lines[src][taken[src]]
                taken[src] += 1
                n = plan.repeats[src][k]
                if n:
                    files[src].seek(int(self.offsets[src][k]))
                    line = files[src].readline().decode("utf-8")
                    for _ in range(n):
                        yield line
        finally:
            for f in files:
                f.close()

    def _global_batches(self, epoch: int) -> Iterator[list[str]]:
        rng = random.Random(self.seed * 1_000_003 + epoch)
        batch: list[str] = []
        for line in shuffle_buffer(self._mixed_lines(self.plan(epoch)), self.buffer, rng):
            batch.append(line)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info else (0, 1)
        n_shards = self.num_processes * n_workers
        shard = worker * self.num_processes + self.process_index  # local batch t = global t*P + p
        first = self.start_batch * self.num_processes
        limit = self.batches_per_epoch(self.epoch) * self.num_processes
        for j, lines in enumerate(self._global_batches(self.epoch)):
            if j >= limit:
                break
            if j < first or j % n_shards != shard:
                continue
            yield self.collate([json.loads(line) for line in lines])


# ---- ECG loading ----------------------------------------------------------------------------------------
def manifest_roots(jsonl_paths: list[str]) -> dict[str, str]:
    """Source roots from the `manifest.json` files beside the JSONL files (keys `roots` or `sources`)."""
    roots: dict[str, str] = {}
    for p in jsonl_paths:
        manifest = Path(p).with_name("manifest.json")
        if not manifest.is_file():
            continue
        try:
            data = json.loads(manifest.read_text())
        except (OSError, ValueError) as err:
            raise ConfigError(f"unreadable manifest: {err}", manifest) from None
        for key in ("roots", "sources"):
            value = data.get(key) if isinstance(data, dict) else None
            if isinstance(value, dict):
                roots.update({k: v for k, v in value.items() if isinstance(v, str)})
    return roots


class ECGLoader:
    """sample → list of `ECGInput` (one per `ecgs` reference, in order): read the window, preprocess."""

    def __init__(self, roots: dict[str, str] | None = None):
        self.roots = dict(roots or {})

    def __call__(self, sample: dict) -> list:
        from anyecg.data.schema import resolve_path
        from anyecg.findings.read import read_window
        from anyecg.signal.preprocess import preprocess

        out = []
        for ref in sample.get("ecgs", []):
            start, end = ref.get("start_s"), ref.get("end_s")
            # with the context ECGChat reads, so that training prompts carry the machine read users get
            record = read_window(resolve_path(ref["path"], self.roots), start_s=start, end_s=end)
            out.append(preprocess(record, start_s=start, end_s=end, leads=ref.get("leads")))
        return out


LOAD_ERRORS = (AnyECGError, OSError, ValueError, KeyError, TypeError, IndexError)


class SkipCounter:
    """Counts samples dropped because their ECG or text could not be used; warns for the first few."""

    def __init__(self, max_warnings: int = 20):
        self.count = 0
        self.max_warnings = max_warnings

    def skip(self, sample: dict, err: Exception) -> None:
        self.count += 1
        if self.count <= self.max_warnings:
            log.warning("skipping sample %s: %s", sample.get("id", "?"), err)


def is_heldout(sample: dict, fraction: float) -> bool:
    """Stable split by sample id: the same `fraction` of ids is held out on every run and machine."""
    key = str(sample.get("id", json.dumps(sample.get("ecgs"), sort_keys=True)))
    return zlib.crc32(key.encode()) % 10_000 < fraction * 10_000


class ChatCollator:
    """Stages 1–3: samples → `processor(conversations, ecgs)` batch (+ `n_skipped`); bad samples dropped.

    `keep` (optional) filters samples silently (e.g. a held-out split); dropped bad samples are counted.
    """

    def __init__(self, processor: Callable[..., dict], loader: Callable[[dict], list],
                 keep: Callable[[dict], bool] | None = None):
        self.processor = processor
        self.loader = loader
        self.keep = keep
        self.skips = SkipCounter()

    def __call__(self, samples: list[dict]) -> dict | None:
        convs, ecgs, skipped = [], [], 0
        for sample in filter(self.keep, samples):
            try:
                inputs = self.loader(sample)
                self.processor([sample["conversation"]], [inputs])  # validates placeholders / length
            except LOAD_ERRORS as err:
                self.skips.skip(sample, err)
                skipped += 1
                continue
            convs.append(sample["conversation"])
            ecgs.append(inputs)
        if not convs:
            return None
        batch = dict(self.processor(convs, ecgs))
        batch["n_skipped"] = skipped
        batch["n_samples"] = len(convs)
        return batch


def stack_clips(ecgs: list) -> tuple[torch.Tensor, list[int], torch.Tensor]:
    """ECGInputs → clips float32 [total_clips, 12, 1000], clips_per_ecg [n], lead_masks bool [n, 12]."""
    clips = torch.from_numpy(np.concatenate([e.clips for e in ecgs]))
    counts = [int(e.clips.shape[0]) for e in ecgs]
    masks = torch.from_numpy(np.stack([np.asarray(e.lead_mask, dtype=bool) for e in ecgs]))
    return clips, counts, masks


def report_text(sample: dict) -> str:
    """The report of a `report` sample: its first assistant turn, without the paper's 'Report: ' prefix."""
    for turn in sample["conversation"]:
        if turn["role"] == "assistant":
            text = turn["content"].strip()
            return text.removeprefix("Report:").strip()
    raise ValueError("no assistant turn")


class PairCollator:
    """Stage 0: samples → (first ECG, report text) pairs; bad samples dropped."""

    def __init__(self, loader: Callable[[dict], list], keep: Callable[[dict], bool] | None = None):
        self.loader = loader
        self.keep = keep
        self.skips = SkipCounter()

    def __call__(self, samples: list[dict]) -> dict | None:
        ecgs, texts, skipped = [], [], 0
        for sample in filter(self.keep, samples):
            try:
                text = report_text(sample)
                if not text:
                    raise ValueError("empty report")
                ecgs.append(self.loader(sample)[0])
                texts.append(text)
            except LOAD_ERRORS as err:
                self.skips.skip(sample, err)
                skipped += 1
        if not ecgs:
            return None
        clips, counts, masks = stack_clips(ecgs)
        return {"ecg_clips": clips, "clips_per_ecg": counts, "lead_masks": masks, "texts": texts,
                "n_skipped": skipped, "n_samples": len(texts)}
