"""Preprocessing into the model input: paper compatibility, edge cases, properties, every shared record."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from anyecg.errors import LeadError, WindowError
from anyecg.io.record import ECGRecord
from anyecg.leads import LEAD_INDEX
from anyecg.signal.preprocess import batch, iter_windows, preprocess, preprocess_file

DATA = Path(__file__).parents[2] / "shared" / "data"


def make_record(seconds: float = 12.0, fs: float = 360.0, leads=("II", "V1")) -> ECGRecord:
    rng = np.random.default_rng(0)
    n = round(seconds * fs)
    t = np.arange(n) / fs
    signal = np.stack([np.sin(2 * np.pi * (1 + i) * t) + 0.1 * rng.standard_normal(n) for i in range(len(leads))])
    return ECGRecord(signal.astype(np.float32), fs, tuple(leads), source=Path("synthetic"))


def official(x: np.ndarray, fs: float, n_out: int) -> np.ndarray:
    """The official code: scipy.signal.resample, then per-lead min-max to [-1, 1], NaN → 0."""
    y = scipy.signal.resample(x, n_out, axis=1)
    lo, hi = y.min(axis=1, keepdims=True), y.max(axis=1, keepdims=True)
    return np.nan_to_num((y - lo) / (hi - lo) * 2 - 1)


def test_matches_official_pipeline_and_slots():
    rec = make_record(10.0, 500.0, ("I", "II", "V6"))
    x = preprocess(rec)
    assert x.clips.shape == (1, 12, 1000) and x.clips.dtype == np.float32
    assert x.n_samples == 1000 and x.n_clips == 1 and x.duration_s == 10.0
    ref = official(rec.signal.astype(np.float64), 500.0, 1000)
    for row, name in enumerate(rec.leads):
        np.testing.assert_allclose(x.clips[0, LEAD_INDEX[name]], ref[row], atol=1e-5)
    assert x.lead_mask.tolist() == [name in rec.leads for name in LEAD_INDEX]
    assert not x.clips[0, ~x.lead_mask].any()


def test_long_window_clips_and_padding():
    x = preprocess(make_record(25.0))
    assert x.clips.shape == (3, 12, 1000) and x.n_samples == 2500
    assert not x.clips[2, :, 500:].any()
    assert x.signal.shape == (12, 2500)


def test_clip_inputs_split_a_long_window_in_time_order():
    x = preprocess(make_record(30.0), start_s=3.0, end_s=28.0)
    pieces = x.clip_inputs()
    assert [p.n_samples for p in pieces] == [1000, 1000, 500]
    assert [p.start_s for p in pieces] == [3.0, 13.0, 23.0]
    np.testing.assert_array_equal(np.concatenate([p.signal for p in pieces], axis=1), x.signal)


def test_poly_close_to_fft():
    rec = make_record(20.0)
    fft, poly = preprocess(rec).signal, preprocess(rec, resample="poly").signal
    assert fft.shape == poly.shape
    assert np.abs(fft - poly)[:, 50:-50].max() < 0.1


def test_window_seconds_and_offset():
    rec = make_record(30.0)
    part = preprocess(rec, start_s=10.0, end_s=20.0)
    assert part.start_s == 10.0 and part.n_samples == 1000
    # the same window from a record that starts at 5 s (a windowed read)
    sub = ECGRecord(rec.signal[:, 1800:], 360.0, rec.leads, offset=1800)
    np.testing.assert_array_equal(preprocess(sub, start_s=10.0, end_s=20.0).clips, part.clips)
    assert preprocess(sub).start_s == 5.0
    with pytest.raises(WindowError):
        preprocess(sub, start_s=0.0, end_s=10.0)
    with pytest.raises(WindowError):
        preprocess(rec, start_s=25.0, end_s=31.0)
    with pytest.raises(WindowError):
        preprocess(rec, start_s=5.0, end_s=5.0)
    with pytest.raises(WindowError, match="shorter than one sample"):
        preprocess(rec, start_s=5.0, end_s=5.004)


def test_lead_selection_and_masking():
    rec = make_record(10.0, leads=("II", "V1"))
    only = preprocess(rec, leads=["MLII"])
    assert only.lead_mask.sum() == 1 and only.lead_mask[LEAD_INDEX["II"]]
    with pytest.raises(LeadError, match="leaves no lead"):
        preprocess(rec, leads=["V6"])
    with pytest.raises(LeadError):
        preprocess(rec, leads=["nonsense"])
    masked = preprocess(rec, mask_leads=["V1"])
    assert not masked.lead_mask[LEAD_INDEX["V1"]] and not masked.clips[:, LEAD_INDEX["V1"]].any()
    np.testing.assert_array_equal(masked.clips[:, LEAD_INDEX["II"]], only.clips[:, LEAD_INDEX["II"]])


def test_flat_and_nan_leads():
    rec = make_record(10.0, leads=("I", "II", "III"))
    sig = rec.signal.copy()
    sig[0] = 0.7  # flat
    sig[1, :] = np.nan  # all NaN → missing
    sig[2, 1000:1010] = np.nan  # short gap → interpolated
    sig[2, 2000:2500] = np.nan  # 1.4 s gap → zeroed after scaling
    x = preprocess(ECGRecord(sig, 360.0, rec.leads))
    assert np.isfinite(x.clips).all()
    assert x.lead_mask[LEAD_INDEX["I"]] and not x.clips[:, LEAD_INDEX["I"]].any()
    assert not x.lead_mask[LEAD_INDEX["II"]] and not x.clips[:, LEAD_INDEX["II"]].any()
    lead3 = x.signal[LEAD_INDEX["III"]]
    assert x.lead_mask[LEAD_INDEX["III"]] and np.all(lead3[560:690] == 0) and np.any(lead3[270:285] != 0)


def test_batch_of_different_lengths():
    a, b = preprocess(make_record(5.0)), preprocess(make_record(31.0, fs=250.0, leads=("I",)))
    out = batch([a, b])
    assert out.clips.shape == (5, 12, 1000) and out.lead_mask.shape == (5, 12)
    assert out.ecg_index.tolist() == [0, 1, 1, 1, 1] and out.n_clips.tolist() == [1, 4]


def test_iter_windows_file_matches_whole(tmp_path):
    wfdb = pytest.importorskip("wfdb")
    rec = make_record(65.0)
    wfdb.wrsamp("gen", fs=360, units=["mV", "mV"], sig_name=["MLII", "V1"], p_signal=rec.signal.T.astype(np.float64),
                fmt=["16", "16"], write_dir=str(tmp_path))
    path = tmp_path / "gen"
    windows = list(iter_windows(path, 30.0))
    assert [w.start_s for w in windows] == [0.0, 30.0, 60.0]
    assert [w.n_samples for w in windows] == [3000, 3000, 500]
    whole = preprocess_file(path, start_s=30.0, end_s=60.0)
    np.testing.assert_array_equal(windows[1].clips, whole.clips)
    from_record = list(iter_windows(rec, 30.0, step_s=20.0))
    assert [w.start_s for w in from_record] == [0.0, 20.0, 40.0, 60.0]
    with pytest.raises(WindowError):
        next(iter_windows(rec, 0.0))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=3, max_value=20000), fs=st.sampled_from([100.0, 128.0, 250.0, 257.0, 360.0, 500.0]),
       method=st.sampled_from(["fft", "poly"]))
def test_properties(n, fs, method):
    rng = np.random.default_rng(n)
    rec = ECGRecord(rng.standard_normal((2, n)).astype(np.float32) * 3, fs, ("II", "V1"))
    if round(n / fs * 100) < 1:
        with pytest.raises(WindowError):
            preprocess(rec, resample=method)
        return
    x = preprocess(rec, resample=method)
    assert x.n_samples == round(n * 100 / fs)
    assert x.n_clips == max(1, math.ceil(x.n_samples / 1000))
    assert x.clips.shape == (x.n_clips, 12, 1000)
    assert np.all(np.abs(x.clips) <= 1.0)
    assert not x.clips.reshape(x.n_clips, 12, -1).transpose(1, 0, 2).reshape(12, -1)[:, x.n_samples:].any()


def _shared_records(folder: str, limit: int | None = None) -> list[Path]:
    root = DATA / folder
    return sorted(root.glob("*.hea"))[:limit] if root.is_dir() else []


@pytest.mark.skipif(not (DATA / "mitdb").is_dir(), reason=f"{DATA}/mitdb absent (../shared/data not present)")
@pytest.mark.parametrize("folder", ["mitdb", "cpsc2018-a0001-a0150", "cinc2021-sample"])
def test_every_shared_record(folder):
    """Every record: a 60 s window of each (windowed read), values in [-1, 1], leads in their slots."""
    headers = _shared_records(folder)
    if not headers:
        pytest.skip(f"{DATA / folder} absent")
    from anyecg.io import read_record

    for hea in headers:
        rec = read_record(hea.with_suffix(""), start_s=0.0, end_s=min(60.0, _duration(hea)))
        x = preprocess(rec)
        assert x.clips.shape == (x.n_clips, 12, 1000), hea
        assert np.isfinite(x.clips).all() and np.abs(x.clips).max() <= 1.0, hea
        assert x.lead_mask.sum() == len(rec.leads), hea
        assert x.n_samples == round(rec.n_samples * 100 / rec.fs), hea


def _duration(hea: Path) -> float:
    fields = hea.read_text().split("\n", 1)[0].split()
    return int(fields[3]) / float(fields[2].split("/")[0])


def test_unknown_resample_method():
    with pytest.raises(ValueError, match="fft"):
        preprocess(make_record(1.0), resample="linear")
