"""Streaming JSONL mixture: weights, per-epoch shuffle, sharding over workers/processes, resume, bad ECGs."""

from __future__ import annotations

import json

import pytest
from torch.utils.data import DataLoader

from anyecg.testing.synthetic import write_synthetic_dataset
from anyecg.train.config import SourceConfig
from anyecg.train.dataset import ChatCollator, ECGLoader, JsonlMixture, PairCollator, is_heldout


def ids(batch: list[dict]) -> list[str]:
    return [s["id"] for s in batch]


@pytest.fixture
def two_sources(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("".join(json.dumps({"id": f"a{i}"}) + "\n" for i in range(40)))
    b.write_text("".join(json.dumps({"id": f"b{i}"}) + "\n\n" for i in range(20)))  # blank lines ignored
    return a, b


def mixture(a, b, wb=1.0, **kw):
    return JsonlMixture([SourceConfig(str(a)), SourceConfig(str(b), wb)], batch_size=4, collate=ids, seed=1,
                        shuffle_buffer=16, **kw)


def flat(ds) -> list[str]:
    return [i for batch in ds for i in batch]


def test_epoch_covers_every_line_once_and_reshuffles(two_sources):
    ds = mixture(*two_sources)
    first = flat(ds)
    assert sorted(first) == sorted([f"a{i}" for i in range(40)] + [f"b{i}" for i in range(20)])
    assert flat(ds) == first  # deterministic
    ds.set_epoch(1)
    second = flat(ds)
    assert sorted(second) == sorted(first) and second != first
    assert ds.batches_per_epoch(0) == 15


def test_a_short_run_draws_from_all_of_a_sorted_file(tmp_path):
    # data builders write files sorted by database; a run shorter than an epoch must not see only the first one
    path = tmp_path / "sorted.jsonl"
    path.write_text("".join(json.dumps({"id": f"{db}{i}"}) + "\n" for db in "xyz" for i in range(100)))
    ds = JsonlMixture([SourceConfig(str(path))], batch_size=4, collate=ids, seed=1, shuffle_buffer=1)
    first = [i for batch, _ in zip(ds, range(10), strict=False) for i in batch]
    assert {i[0] for i in first} == {"x", "y", "z"}
    assert sorted(flat(ds)) == sorted(f"{db}{i}" for db in "xyz" for i in range(100))


def test_replay_weight_subsamples_a_fresh_share_each_epoch(two_sources):
    ds = mixture(*two_sources, wb=0.5)
    e0 = [i for i in flat(ds) if i.startswith("b")]
    ds.set_epoch(1)
    e1 = [i for i in flat(ds) if i.startswith("b")]
    assert 4 <= len(e0) <= 16 and 4 <= len(e1) <= 16 and set(e0) != set(e1)
    up = mixture(*two_sources, wb=2.0)
    assert len([i for i in flat(up) if i.startswith("b")]) == 40


def test_workers_and_processes_see_the_same_global_batches(two_sources):
    reference = list(mixture(*two_sources))
    ds = mixture(*two_sources)
    with_workers = list(DataLoader(ds, batch_size=None, num_workers=2))
    assert with_workers == reference
    shards = [list(mixture(*two_sources, process_index=p, num_processes=2)) for p in range(2)]
    assert len(shards[0]) == len(shards[1]) == 7  # 15 batches → 7 complete rounds of 2
    assert [b for pair in zip(*shards, strict=True) for b in pair] == reference[:14]


def test_resume_position_skips_consumed_batches(two_sources):
    ds = mixture(*two_sources)
    full = list(ds)
    ds.set_position(0, 6)
    assert list(ds) == full[6:]


def test_bad_ecgs_are_counted_and_skipped(tmp_path, caplog):
    files = write_synthetic_dataset(tmp_path, n_records=2, bad=2)
    samples = [json.loads(line) for line in files["report"].read_text().splitlines()]
    processor_calls = []

    def processor(convs, ecgs):
        processor_calls.append(len(convs))
        return {"input_ids": len(convs)}

    chat = ChatCollator(processor, ECGLoader())
    batch = chat(samples)
    assert batch["n_skipped"] == 2 and batch["n_samples"] == 2 and chat.skips.count == 2
    assert "skipping sample syn-bad-0" in caplog.text
    assert chat([samples[-1]]) is None  # nothing usable: no batch, no crash
    pairs = PairCollator(ECGLoader())(samples)
    assert pairs["texts"] == ["Sinus rhythm. Normal ECG.", "Sinus bradycardia."]
    assert pairs["ecg_clips"].shape == (2, 12, 1000) and pairs["clips_per_ecg"] == [1, 1]


def test_heldout_split_is_stable():
    picked = [is_heldout({"id": f"s{i}"}, 0.2) for i in range(2000)]
    assert 0.15 < sum(picked) / 2000 < 0.25
    assert picked == [is_heldout({"id": f"s{i}"}, 0.2) for i in range(2000)]
