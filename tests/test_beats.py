"""Beat-synchronous perception: detection, windows, RR features, encoder, interval rule on predicted beats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from anyecg.model.beats import (
    DEFAULT_WEIGHTS,
    BeatEncoder,
    BeatEncoderConfig,
    beat_prompt,
    beat_tokens,
    input_beats,
    load_beat_encoder,
    predicted_intervals,
    save_beat_encoder,
)
from anyecg.signal.beats import (
    BEAT_CLASSES,
    Beats,
    beat_leads,
    beat_windows,
    class_of,
    detect_beats,
    detect_two_leads,
    extract_beats,
    match_beats,
    rr_features,
    with_context,
)
from anyecg.signal.intervals import BEAT_SYMBOLS, beat_intervals

FS = 360.0
MITDB = Path(__file__).parents[2] / "shared" / "data" / "mitdb"


def synthetic_ecg(times_s: list[float], duration_s: float, fs: float = FS, amp: float = 1.0,
                  seed: int = 0) -> np.ndarray:
    """Two leads of narrow Gaussian 'QRS' spikes at `times_s` with small noise and baseline wander."""
    t = np.arange(int(duration_s * fs)) / fs
    qrs = sum(np.exp(-0.5 * ((t - c) / 0.012) ** 2) for c in times_s)
    rng = np.random.default_rng(seed)
    lead = amp * qrs + 0.2 * np.sin(2 * np.pi * 0.3 * t) + 0.01 * rng.standard_normal(len(t))
    return np.stack([lead, -0.5 * lead]).astype(np.float32)


REGULAR = [0.5 + 0.8 * i for i in range(12)]  # 75 bpm over 10 s


def test_detect_beats_finds_synthetic_qrs():
    sig = synthetic_ecg(REGULAR, 10.0)
    det = detect_beats(sig[0], FS)
    truth = np.round(np.array(REGULAR) * FS).astype(int)
    match = match_beats(det, truth, int(0.05 * FS))
    assert (match >= 0).sum() >= len(truth) - 1
    assert np.abs(det[match >= 0] - truth[match[match >= 0]]).max() <= 0.02 * FS


def test_detect_beats_short_or_flat_is_empty():
    assert len(detect_beats(np.zeros(3600), FS)) == 0
    assert len(detect_beats(np.ones(100), FS)) == 0


def test_match_beats_one_to_one_nearest():
    ref = np.array([100, 200, 300])
    det = np.array([98, 103, 250, 301, 500])
    assert match_beats(det, ref, 10).tolist() == [0, -1, -1, 2, -1]  # 98 is 2 from 100, 103 is 3
    assert match_beats(np.array([99, 103]), ref, 10).tolist() == [0, -1]
    assert match_beats(np.array([], dtype=int), ref, 10).tolist() == []


def test_beat_leads_order_and_missing_second():
    sig = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert beat_leads(sig, ("V5", "II", "V1"))[:, 0].tolist() == [2.0, 4.0]
    assert beat_leads(sig, ("V5", "V2", "I"))[:, 0].tolist() == [0.0, 2.0]
    assert beat_leads(sig[:1], ("I",))[1].tolist() == [0.0, 0.0]


def test_windows_shape_and_local_norm_is_gain_invariant():
    beats = (np.array(REGULAR[1:-1]) * FS).astype(int)
    sig = synthetic_ecg(REGULAR, 10.0).astype(np.float64)
    w1 = beat_windows(sig, FS, beats)
    w3 = beat_windows(3.0 * sig, FS, beats)
    assert w1.shape == (len(beats), 2, 70) and w1.dtype == np.float32
    np.testing.assert_allclose(w1, w3, atol=1e-4)
    assert np.abs(w1[:, 0]).max(axis=-1) == pytest.approx(np.ones(len(beats)), abs=0.05)
    raw = beat_windows(3.0 * sig, FS, beats, norm="none")
    assert np.abs(raw[:, 0]).max() > 2.0
    with pytest.raises(ValueError):
        beat_windows(sig, FS, beats, norm="zscore")


def test_rr_features_flag_premature_beat():
    times = [0.5, 1.3, 2.1, 2.5, 3.7, 4.5, 5.3]  # beat 3 premature, then a compensatory pause
    rr = rr_features(np.round(np.array(times) * FS), FS)
    assert rr.shape == (7, 6)
    assert rr[3, 0] == pytest.approx(0.4, abs=0.01)  # prev RR
    assert rr[3, 3] < 0.6 and rr[3, 4] > 1.3  # short before, long after, relative to the local median
    assert rr[0, 0] == pytest.approx(rr[0, 2])  # first beat: missing prev RR = local median
    assert rr_features(np.array([]), FS).shape == (0, 6)
    assert rr_features(np.array([100]), FS)[0, 2] == pytest.approx(1.0)


def test_class_of_symbols():
    assert [BEAT_CLASSES[class_of(s)] for s in "NVALRF/?jE"] == list("NVSLRFQQNV")


def test_encoder_shapes_and_save_load_roundtrip(tmp_path):
    model = BeatEncoder(BeatEncoderConfig(dim=32, width=8)).eval()
    win, rr = torch.randn(5, 2, 70), torch.rand(5, 6) + 0.5
    emb = model(win, rr)
    assert emb.shape == (5, 32)
    assert model.logits(win, rr).shape == (5, len(BEAT_CLASSES))
    path = tmp_path / "enc.safetensors"
    save_beat_encoder(model, path, {"command": "test"})
    loaded = load_beat_encoder(path)
    assert loaded.cfg.dim == 32
    torch.testing.assert_close(loaded.logits(win, rr), model.logits(win, rr))


def test_predicted_intervals_follow_the_paper_rule_and_skip_q():
    sample = np.array([100, 400, 700, 1000, 1300])
    classes = [BEAT_CLASSES.index(c) for c in "NNVNN"]
    n, fs = 1500, 100.0
    assert predicted_intervals(sample, classes, "V", n, fs) == beat_intervals(sample, list("NNVNN"), "V", 0, n, fs)
    assert predicted_intervals(sample, classes, "V", n, fs) == [(4.0, 10.0)]
    with_q = [BEAT_CLASSES.index(c) for c in "NQVNN"]  # a false detection is no neighbour
    assert predicted_intervals(sample, with_q, "V", n, fs) == [(1.0, 10.0)]
    s_beat = [BEAT_CLASSES.index(c) for c in "NNSNN"]
    assert predicted_intervals(sample, s_beat, "A", n, fs) == [(4.0, 10.0)]
    assert predicted_intervals(sample, classes, "A", n, fs) == []


def test_beat_prompt_and_tokens():
    assert beat_prompt([0.43, 1.25], "<ECG_pad>") == "0.4s <ECG_pad> 1.2s <ECG_pad>"
    assert beat_prompt([], "<x>") == "no beats detected"
    model = BeatEncoder(BeatEncoderConfig(dim=16, width=8))
    sig = synthetic_ecg(REGULAR, 10.0)
    times, emb = beat_tokens(model, sig, FS, ("II", "V1"))
    assert emb.shape == (len(times), 16) and len(times) >= 11
    assert np.abs(np.asarray(times) - np.array(REGULAR)[:len(times)]).max() < 0.05
    beats = extract_beats(sig, FS, ("II", "V1"))
    assert isinstance(beats, Beats) and model.predict(beats).shape == (len(beats),)
    empty = extract_beats(np.zeros((2, 100), np.float32), FS, ("II", "V1"))
    assert len(empty) == 0 and model.predict(empty).shape == (0,)
    assert beat_tokens(model, np.zeros((2, 100), np.float32), FS, ("II",))[1].shape == (0, 16)


@pytest.mark.skipif(not DEFAULT_WEIGHTS.exists(), reason="committed beat encoder weights not built yet")
def test_committed_weights_load():
    model = load_beat_encoder()
    assert sum(p.numel() for p in model.parameters()) < 500_000
    assert DEFAULT_WEIGHTS.stat().st_size < 2_000_000


@pytest.mark.skipif(not (MITDB / "233.hea").exists() or not DEFAULT_WEIGHTS.exists(),
                    reason=f"MIT-BIH Arrhythmia not found at {MITDB} or weights not built")
def test_committed_encoder_finds_v_beats_in_a_held_out_patient():
    from anyecg.io import read_record

    rec = read_record(MITDB / "233", end_s=120.0)  # DS2: never trained on; 51 V beats in 2 minutes
    model = load_beat_encoder()
    beats = extract_beats(rec.signal, rec.fs, rec.leads, norm=model.cfg.norm, context=model.cfg.context)
    pred_v = model.predict(beats) == BEAT_CLASSES.index("V")
    keep = [i for i, s in enumerate(rec.beats.symbol) if s in BEAT_SYMBOLS and rec.beats.sample[i] < rec.n_samples]
    ref, syms = np.asarray(rec.beats.sample)[keep], [rec.beats.symbol[i] for i in keep]
    match = match_beats(beats.sample, ref, int(0.15 * rec.fs))
    true_v = np.array([m >= 0 and syms[m] == "V" for m in match])
    assert (true_v & pred_v).sum() / true_v.sum() > 0.9 and (true_v & pred_v).sum() / pred_v.sum() > 0.9


@pytest.mark.skipif(not (MITDB / "100.hea").exists(), reason=f"MIT-BIH Arrhythmia not found at {MITDB}")
def test_detector_on_mitdb_record_100():
    from anyecg.io import read_record

    rec = read_record(MITDB / "100", end_s=60.0)
    det = detect_beats(beat_leads(rec.signal, rec.leads)[0], rec.fs)
    ref = np.array([s for s, y in zip(rec.beats.sample, rec.beats.symbol, strict=True)
                    if y in BEAT_SYMBOLS and s < rec.signal.shape[1]])
    match = match_beats(det, ref, int(0.15 * rec.fs))
    assert (match >= 0).sum() / len(ref) > 0.99 and (match >= 0).mean() > 0.99


def test_two_lead_detection_without_a_second_lead_adds_nothing_to_a_clean_record():
    """With no second lead the rescue comes from the lead low-passed: on sharp regular beats it finds nothing
    more (not the T waves either)."""
    sig = synthetic_ecg(REGULAR, 10.0)
    flat = np.stack([sig[0], np.zeros_like(sig[0])])
    assert np.array_equal(detect_two_leads(flat, FS), detect_beats(sig[0], FS))
    assert np.array_equal(detect_two_leads(sig[:1], FS), detect_beats(sig[0], FS))
    # beats both leads show are not doubled
    assert np.array_equal(detect_two_leads(sig, FS), detect_beats(sig[0], FS))


@pytest.mark.skipif(not (MITDB / "208.hea").exists(), reason=f"MIT-BIH Arrhythmia not found at {MITDB}")
def test_two_lead_detection_finds_the_wide_pvcs_the_first_lead_misses():
    """MIT-BIH 208's slurred PVCs are large in MLII but slow: the slope detector on MLII alone misses most."""
    from anyecg.io import read_record

    rec = read_record(MITDB / "208", end_s=60.0)
    x = beat_leads(rec.signal, rec.leads)
    beats = [(s, y) for s, y in zip(rec.beats.sample, rec.beats.symbol, strict=True)
             if y in BEAT_SYMBOLS and s < rec.signal.shape[1]]
    pvcs = np.array([s for s, y in beats if y == "V"])
    tol = int(0.15 * rec.fs)

    def found(det: np.ndarray, ref: np.ndarray) -> float:
        return float((match_beats(ref, det, tol) >= 0).mean())

    one, two = detect_beats(x[0], rec.fs), detect_two_leads(x, rec.fs)
    assert found(one, pvcs) < 0.5 and found(two, pvcs) > 0.9
    every = np.array([s for s, _ in beats])
    assert (match_beats(two, every, tol) >= 0).mean() > 0.98  # the beats added are beats, not noise
    # with MLII alone the rescue comes from MLII low-passed, where the slurred PVCs stand as tall as sinus beats
    alone = detect_two_leads(x[:1], rec.fs)
    assert found(alone, pvcs) > 0.9 and (match_beats(alone, every, tol) >= 0).mean() > 0.98


def test_input_beats_from_preprocessed_ecg():
    from anyecg.io import ECGRecord
    from anyecg.signal.preprocess import preprocess

    ecg = preprocess(ECGRecord(synthetic_ecg(REGULAR, 10.0), FS, ("II", "V1")))
    beats = input_beats(ecg)
    assert beats.fs == 100 and beats.windows.shape[1:] == (2, 70)
    assert len(beats) >= 11 and np.abs(beats.times_s - np.array(REGULAR)[:len(beats)]).max() < 0.05


def test_context_channels_and_encoder_input():
    sig = synthetic_ecg(REGULAR, 10.0)
    plain = extract_beats(sig, FS, ("II", "V1"))
    ctx = extract_beats(sig, FS, ("II", "V1"), context=True)
    assert ctx.windows.shape[1] == 4
    np.testing.assert_allclose(ctx.windows[:, :2], plain.windows)
    assert np.abs(ctx.windows[:, 2:]).max() < 0.2  # identical beats differ little from their neighbours
    model = BeatEncoder(BeatEncoderConfig(dim=16, width=8, context=True))
    assert model.predict(ctx).shape == (len(ctx),)
    assert with_context(np.zeros((0, 2, 70), np.float32)).shape == (0, 4, 70)


def test_beat_kind_collates_beats_for_the_encoder(tmp_path):
    from anyecg.io import ECGRecord
    from anyecg.model.config import BeatsEncoderConfig
    from anyecg.model.kinds import make_kind
    from anyecg.model.tokens import ECGTokens
    from anyecg.signal.preprocess import preprocess

    short = preprocess(ECGRecord(synthetic_ecg(REGULAR, 10.0), FS, ("II", "V1")))
    long = preprocess(ECGRecord(synthetic_ecg([0.5 + 0.8 * i for i in range(40)], 33.0)[:1], FS, ("II",)))
    cfg = BeatEncoderConfig(dim=16, width=8, context=True)
    save_beat_encoder(BeatEncoder(cfg), tmp_path / "b.safetensors")
    kind = make_kind(BeatsEncoderConfig(weights=str(tmp_path / "b.safetensors")))
    tokens = ECGTokens("<s>", "</s>", "<p>", 1, 2, 3)
    prepared = [kind.prepare(short, tokens), kind.prepare(long, tokens)]
    batch = kind.collate(prepared)
    counts = batch["beats_per_ecg"]
    assert counts[0] >= 11 and counts[1] >= 38 and counts == [p.slots for p in prepared]
    assert batch["beat_windows"].shape == (sum(counts), 4, 70) and batch["beat_rr"].shape == (sum(counts), 6)
    assert [p.text.count("<p>") for p in prepared] == counts
    emb = kind.encode(BeatEncoder(cfg).eval(), batch, torch.device("cpu"))
    assert emb.shape == (sum(counts), 16)
    assert kind.collate([])["beat_windows"].shape == (0, 4, 70)


@pytest.mark.parametrize(("dx", "cls"), [
    (["LBBB"], "L"), (["RBBB", "I-AVB"], "R"), (["Normal"], "N"), (["AF"], "N"), (["STD", "STE"], "N"),
    (["713427006"], "R"), (["733534002", "426783006"], "L"), (["RBBB", "PVC"], None), (["PAC"], None),
    (["LBBB", "RBBB"], None), (["713426002"], None), (["6374002"], None), (["10370003"], None),
    (["999999"], None), ([], None),
])
def test_record_class_only_when_every_beat_shares_it(dx, cls):
    from anyecg.train.beat_pretrain import record_class

    assert record_class(dx) == cls


def test_sampling_weights_balance_classes_and_records():
    from anyecg.train.beat_pretrain import BeatSet, sampling_weights

    labels = np.array([0] * 90 + [0] * 10 + [1] * 5)  # class 0: records 0 (90 beats) and 1 (10); class 1: record 2
    record = np.array([0] * 90 + [1] * 10 + [2] * 5)
    data = BeatSet(np.zeros((105, 2, 8), np.float32), np.zeros((105, 6), np.float32), labels, record)
    w = sampling_weights(data, 2, balance=1.0, record_balance=1.0).numpy()
    assert np.isclose(w[:90].sum(), w[90:100].sum()) and np.isclose(w[:100].sum(), w[100:].sum())
    plain = sampling_weights(data, 2, balance=0.0, record_balance=0.0).numpy()
    assert np.allclose(plain, plain[0])  # no balancing: every beat alike


@pytest.mark.skipif(not (MITDB.parent / "cpsc2018-a0001-a0150").is_dir(),
                    reason=f"CPSC2018 A0001-A0150 not found at {MITDB.parent}")
def test_weak_records_keep_the_report_test_records_out():
    from anyecg.train.beat_pretrain import weak_records

    labelled = dict(weak_records(MITDB.parent / "cpsc2018-a0001-a0150"))
    assert labelled and all(int(k[1:]) <= 100 for k in labelled)  # A0101-A0150 are the report test set
    assert {"L", "R", "N"} <= set(labelled.values())


def test_premature_against_the_mean_rr_around():
    """de Chazal's average RR: a mean, so that a record whose premature beats outnumber its sinus beats (three short
    cycles, then a long one, as MIT-BIH 232) still shows the short ones premature; regular beats are not."""
    from anyecg.findings.beat_classes import premature

    fs = 360.0
    regular = np.cumsum(np.full(60, 0.8)) * fs
    assert not premature(regular, fs).any()
    one = np.cumsum(np.r_[np.full(30, 0.8), 0.5, 1.1, np.full(28, 0.8)]) * fs
    assert np.flatnonzero(premature(one, fs)).tolist() == [30]
    runs = np.cumsum(np.tile([0.73, 0.73, 0.73, 2.0], 20)) * fs
    i = np.arange(1, len(runs))
    assert (premature(runs, fs)[1:] == (i % 4 != 3)).all()  # beat i ends cycle i % 4: the long one is 3
    assert premature(np.array([100]), fs).tolist() == [False]
