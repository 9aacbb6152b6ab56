"""`anyecg data build`: plan every source, run shards (in processes, resumable), merge, write manifest and card.

Layout of OUT: `{task}_{split}.jsonl`, `manifest.json`, `data_card.md`; `.shards/` holds one finished
`<shard>.jsonl` + `<shard>.json` per shard (a rerun skips those), `.llm-cache/` the rewrite replies.
Deterministic: every shard's RNG depends only on the seed and the shard's records, the merge reads shards in a
fixed order, and nothing time- or machine-dependent is written.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from anyecg.atomic import atomic_path
from anyecg.data.card import duration_bins, render_card
from anyecg.data.schema import SPLITS, TASKS, Sample, dumps, write_json, write_lines
from anyecg.data.sources.base import Plan, ShardResult, stable_hash, unit_fraction
from anyecg.data.sources.ecgqa import read_split_tables
from anyecg.data.sources.ptbxl import read_folds
from anyecg.data.sources.registry import PLAN_ORDER, SOURCES
from anyecg.data.tasks.llm_rewrite import rewrite
from anyecg.data.tasks.localization import LocalizationOptions
from anyecg.data.tasks.multiecg import group_samples, make_groups
from anyecg.errors import DataBuildError

BUILD_TASKS = tuple(t for t in TASKS if t not in ("chat", "general"))  # chat, general: made elsewhere
UNITS_PER_SHARD = 256  # metadata-only sources; beat-annotated records are one shard each
MAX_LISTED = 200  # notes / skipped records listed in the manifest (all are counted)


@dataclass
class BuildContext:
    """Everything a shard needs besides its units (sent once to each worker process)."""

    seed: int = 0
    roots: dict[str, str] = field(default_factory=dict)
    localization: LocalizationOptions = field(default_factory=LocalizationOptions)
    report_windows: int = 10
    multiecg_questions: int = 3
    ecgqa_variant: str = "paraphrased"
    ecgqa_fraction: float = 1.0
    balance: bool = True
    llm_url: str | None = None
    llm_model: str = "default"
    cache_dir: str = ""
    fixed_split: dict[str, str] = field(default_factory=dict)  # 'ptbxl:<id>' / 'mimic:<study>' → split
    ptbxl_alt: dict[str, str] = field(default_factory=dict)  # 'ptbxl:<id>' → ref of the same ECG elsewhere
    ecg_index: dict[str, tuple[str, str]] = field(default_factory=dict)  # group → (ref, split), for ECG-QA

    def options(self) -> dict:
        return {"seed": self.seed, "localization": asdict(self.localization), "report_windows": self.report_windows,
                "multiecg_questions": self.multiecg_questions, "ecgqa_variant": self.ecgqa_variant,
                "ecgqa_fraction": self.ecgqa_fraction, "balance": self.balance, "llm_url": self.llm_url,
                "llm_model": self.llm_model if self.llm_url else None}


@dataclass(frozen=True)
class Shard:
    id: str
    kind: str  # 'units' or 'multiecg'
    source: str
    units: tuple = ()  # Units, or groups (tuples of Units) for 'multiecg'
    same_patient: bool = True


# ---------------------------------------------------------------- planning

def plan_sources(sources: Mapping[str, Path], ctx: BuildContext) -> dict[str, Plan]:
    for name, root in sources.items():
        if name not in SOURCES:
            raise DataBuildError(f"unknown source '{name}'; known: {', '.join(SOURCES)}")
        if not Path(root).is_dir():
            raise DataBuildError(f"source '{name}': not a directory", root)
    if "ptbxl" in sources and (Path(sources["ptbxl"]) / "ptbxl_database.csv").is_file():
        ctx.fixed_split.update(read_folds(Path(sources["ptbxl"])))
    if "ecgqa" in sources:
        ctx.fixed_split.update(read_split_tables(Path(sources["ecgqa"])))
    plans: dict[str, Plan] = {}
    for name in (n for n in PLAN_ORDER if n in sources):
        if name == "ptbxl":
            ctx.ptbxl_alt = {u.group: u.ref for p in plans.values() for u in p if u.group.startswith("ptbxl:")}
        if name == "ecgqa":
            ctx.ecg_index = {u.group: (u.ref, u.split) for p in plans.values() for u in p
                             if u.group.startswith(("ptbxl:", "mimic:"))}
        plans[name] = SOURCES[name].plan(Path(sources[name]), ctx)
    return plans


def make_shards(plans: Mapping[str, Plan], tasks: tuple[str, ...], ctx: BuildContext) -> list[Shard]:
    shards: list[Shard] = []
    for name, plan in plans.items():
        adapter = SOURCES[name]
        units = sorted(plan.units, key=lambda u: u.key)
        unit_tasks = [t for t in adapter.tasks if t in tasks and t != "multiecg"]
        if unit_tasks:
            size = 1 if name in ("mitdb", "stdb", "edb", "svdb", "ltafdb", "ecgqa") else UNITS_PER_SHARD
            for i in range(0, len(units), size):
                shards.append(Shard(f"{name}-{i // size:06d}", "units", name, tuple(units[i:i + size])))
        if "multiecg" in adapter.tasks and "multiecg" in tasks:
            groups, same = make_groups(units, ctx.seed, name)
            plan.notes.append("MultiECG: same-patient groups" if same else
                              "MultiECG: no repeated patients, so different records were paired (not one patient)")
            for i in range(0, len(groups), UNITS_PER_SHARD):
                shards.append(Shard(f"{name}-multi-{i // UNITS_PER_SHARD:06d}", "multiecg", name,
                                    tuple(groups[i:i + UNITS_PER_SHARD]), same))
    return shards


# ---------------------------------------------------------------- shards (run in worker processes)

_CTX: BuildContext | None = None


def _init_worker(ctx: BuildContext) -> None:
    global _CTX
    _CTX = ctx


def run_shard(shard: Shard, tasks: tuple[str, ...], shard_dir: str) -> dict:
    """Run one shard and write `<id>.jsonl` then `<id>.json` (the summary marks it finished)."""
    ctx = _CTX
    assert ctx is not None, "worker context not initialised"
    result = ShardResult()
    root = Path(ctx.roots[shard.source])
    if shard.kind == "units":
        adapter = SOURCES[shard.source]
        for unit in shard.units:
            try:
                adapter.process(unit, root, ctx, tasks, result)
            except Exception as err:  # a bad record is reported, never aborts the build
                result.skipped.append((shard.source, unit.key, f"failed: {type(err).__name__}: {err}"))
    else:
        for group in shard.units:
            result.records += len(group)
            for sample in group_samples(group, source=shard.source, same_patient=shard.same_patient,
                                        seed=ctx.seed, max_questions=ctx.multiecg_questions):
                if ctx.llm_url:
                    new = rewrite(sample, ctx.llm_url, ctx.llm_model, Path(ctx.cache_dir))
                    if new is None:
                        result.rejected["multiecg rewrite failed (deterministic text kept)"] = (
                            result.rejected.get("multiecg rewrite failed (deterministic text kept)", 0) + 1)
                    sample = new or sample
                result.samples.append(sample)
    out = Path(shard_dir)
    write_lines(out / f"{shard.id}.jsonl", (s.to_json() for s in result.samples))
    summary = {"id": shard.id, "records": result.records, "skipped": result.skipped, "issues": result.issues,
               "rejected": result.rejected, "counts": _counts(result.samples)}
    write_json(out / f"{shard.id}.json", summary)
    return summary


def _class_of(sample: Mapping) -> str:
    meta, task = sample["meta"], sample["task"]
    if task == "localization":
        return f"{meta['window']}:{meta['abnormal_type']}"
    if task == "multiecg":
        return meta["aspect"]
    if task == "ecgqa":
        return str(meta.get("question_type"))
    return sample["dataset"]


def _counts(samples: list[Sample]) -> dict:
    """task → split → class → [positives, negatives] (negatives only for localization)."""
    counts: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: [0, 0])))
    for s in samples:
        d = {"task": s.task, "meta": s.meta, "dataset": s.dataset}
        negative = s.task == "localization" and not s.meta["intervals"]
        counts[s.task][s.split][_class_of(d)][int(negative)] += 1
    return json.loads(json.dumps(counts))


# ---------------------------------------------------------------- driver

def _run_all(shards: list[Shard], tasks: tuple[str, ...], ctx: BuildContext, shard_dir: Path, workers: int,
             progress: bool) -> None:
    from tqdm import tqdm

    todo = [s for s in shards if not (shard_dir / f"{s.id}.json").is_file()]
    bar = tqdm(total=len(shards), initial=len(shards) - len(todo), desc="data build", unit="shard",
               disable=not progress)
    if workers <= 1:
        _init_worker(ctx)
        for shard in todo:
            run_shard(shard, tasks, str(shard_dir))
            bar.update()
    else:
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(ctx,)) as pool:
            pending: set[Future] = set()
            queue = iter(todo)
            for shard in queue:  # bounded: at most 2 shards per worker in flight (streaming, bounded memory)
                pending.add(pool.submit(run_shard, shard, tasks, str(shard_dir)))
                if len(pending) >= 2 * workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        f.result()
                        bar.update()
            for f in pending:
                f.result()
                bar.update()
    bar.close()


def _prepare_out(out: Path, fingerprint: dict, fresh: bool) -> Path:
    shard_dir = out / ".shards"
    config = shard_dir / "config.json"
    if shard_dir.is_dir() and config.is_file():
        if json.loads(config.read_text()) != fingerprint:
            if not fresh:
                raise DataBuildError("this folder holds shards of a build with other sources or options; "
                                     "use another --out or pass --fresh to start over", out)
            shutil.rmtree(shard_dir)
    elif shard_dir.is_dir() and fresh:
        shutil.rmtree(shard_dir)
    shard_dir.mkdir(parents=True, exist_ok=True)
    write_json(config, fingerprint)
    return shard_dir


def build(sources: Mapping[str, str | Path], out: str | Path, *, tasks: tuple[str, ...] = BUILD_TASKS,
          ctx: BuildContext | None = None, workers: int = 1, progress: bool = True, fresh: bool = False) -> dict:
    """Build every task from the sources into `out`; returns the manifest."""
    bad = [t for t in tasks if t not in BUILD_TASKS]
    if bad:
        raise DataBuildError(f"unknown task(s) {', '.join(bad)}; choose from {', '.join(BUILD_TASKS)}")
    out = Path(out)
    ctx = ctx or BuildContext()
    ctx.roots = {name: str(Path(root).resolve()) for name, root in sorted(sources.items())}
    ctx.cache_dir = str(out / ".llm-cache")
    plans = plan_sources({k: Path(v) for k, v in ctx.roots.items()}, ctx)
    shards = make_shards(plans, tasks, ctx)
    units_key = stable_hash(*(f"{u.source}/{u.key}/{u.split}" for p in plans.values() for u in p))
    fingerprint = json.loads(json.dumps({"roots": ctx.roots, "tasks": list(tasks), "options": ctx.options(),
                                         "units": units_key}))
    shard_dir = _prepare_out(out, fingerprint, fresh)
    _run_all(shards, tasks, ctx, shard_dir, workers, progress)
    summaries = [json.loads((shard_dir / f"{s.id}.json").read_text()) for s in shards]
    files, counts, histograms = _merge(shards, summaries, shard_dir, out, ctx)
    manifest = _manifest(plans, summaries, files, counts, histograms, tasks, ctx, units_key)
    write_json(out / "manifest.json", manifest)
    write_lines(out / "data_card.md", [render_card(manifest)])
    return manifest


def _keep_probability(summaries: list[dict], balance: bool) -> dict[tuple[str, str], float]:
    """(split, class) → keep probability that caps each localization class at the median class size."""
    if not balance:
        return {}
    totals: Counter = Counter()
    for s in summaries:
        for split, classes in s["counts"].get("localization", {}).items():
            for cls, (pos, _neg) in classes.items():
                totals[(split, cls)] += pos
    keep: dict[tuple[str, str], float] = {}
    for split in SPLITS:
        for window in ("10s", "long"):
            sizes = sorted(n for (sp, c), n in totals.items() if sp == split and c.startswith(window) and n)
            if not sizes:
                continue
            cap = sizes[len(sizes) // 2]
            for (sp, c), n in totals.items():
                if sp == split and c.startswith(window) and n > cap:
                    keep[(sp, c)] = cap / n
    return keep


def _iter_lines(shards: list[Shard], shard_dir: Path) -> Iterator[str]:
    for shard in shards:
        with open(shard_dir / f"{shard.id}.jsonl", encoding="utf-8") as f:
            yield from f


def _merge(shards: list[Shard], summaries: list[dict], shard_dir: Path, out: Path, ctx: BuildContext
           ) -> tuple[dict, dict, dict]:
    """Stream every shard, in order, into `{task}_{split}.jsonl` (balanced); return files, counts, histograms."""
    keep = _keep_probability(summaries, ctx.balance)
    counts: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: [0, 0])))
    histograms: dict[str, Counter] = defaultdict(Counter)
    written: Counter = Counter()
    with ExitStack() as stack:
        tmp_files: dict[str, TextIO] = {}
        for line in _iter_lines(shards, shard_dir):
            d = json.loads(line)
            cls = _class_of(d)
            p = keep.get((d["split"], cls), 1.0) if d["task"] == "localization" else 1.0
            if p < 1.0 and unit_fraction("balance", d["id"]) >= p:
                continue
            name = f"{d['task']}_{d['split']}.jsonl"
            if name not in tmp_files:  # each file replaces its old version when the stack closes
                tmp_files[name] = stack.enter_context(open(stack.enter_context(atomic_path(out / name)), "w",
                                                           encoding="utf-8", newline="\n"))
            tmp_files[name].write(dumps(d) + "\n")
            written[name] += 1
            negative = d["task"] == "localization" and not d["meta"]["intervals"]
            counts[d["task"]][d["split"]][cls][int(negative)] += 1
            durations = d["meta"].get("durations_s") or [d["meta"].get("duration_s")] * len(d["ecgs"])
            for ecg, duration in zip(d["ecgs"], durations, strict=True):
                window = ecg["start_s"] is not None and ecg["end_s"] is not None
                seconds = ecg["end_s"] - ecg["start_s"] if window else duration
                histograms[d["task"]][duration_bins(seconds)] += 1
    files = {name: written[name] for name in sorted(written)}
    for stale in out.glob("*_*.jsonl"):
        if stale.name not in files:
            stale.unlink()
    return files, json.loads(json.dumps(counts)), {t: dict(sorted(h.items())) for t, h in sorted(histograms.items())}


def _listed(items: list, limit: int = MAX_LISTED) -> dict:
    return {"count": len(items), "listed": items[:limit]}


def _manifest(plans: dict[str, Plan], summaries: list[dict], files: dict, counts: dict, histograms: dict,
              tasks: tuple[str, ...], ctx: BuildContext, units_key: int) -> dict:
    import wfdb

    from anyecg import __version__

    skipped = [list(s) for p in plans.values() for s in p.skipped] + [s for x in summaries for s in x["skipped"]]
    issues = [s for x in summaries for s in x["issues"]]
    rejected: Counter = Counter()
    for x in summaries:
        rejected.update(x["rejected"])
    sources, splits = {}, {}
    for name, plan in plans.items():
        used = sum(x["records"] for x in summaries if x["id"].startswith(f"{name}-") and "-multi-" not in x["id"])
        sources[name] = {"title": plan.version, "root": ctx.roots[name], "units": len(plan.units),
                         "units_processed": used, "split_rule": plan.split_rule, "notes": _listed(plan.notes)}
        by_split: dict[str, list[str]] = {sp: [] for sp in SPLITS}
        for unit in sorted(plan.units, key=lambda u: u.key):
            by_split[unit.split].append(unit.key)
        splits[name] = {sp: keys for sp, keys in by_split.items() if keys}
    reasons = Counter(r for _, _, r in skipped)
    return {
        "format": "anyecg-data/1", "anyecg_version": __version__, "wfdb_version": wfdb.__version__,
        "seed": ctx.seed, "tasks": list(tasks), "options": ctx.options(), "inputs_hash": f"{units_key:016x}",
        "roots": ctx.roots, "sources": sources, "splits": splits, "files": files, "counts": counts,
        "ecg_duration_histogram": histograms,
        "skipped": {"count": len(skipped), "by_reason": dict(sorted(reasons.items())), "listed": skipped[:MAX_LISTED]},
        "issues": _listed(issues), "rejected": dict(sorted(rejected.items())),
    }
