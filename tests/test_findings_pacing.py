"""Paced rhythm (issue 13): a pacemaker spike before a wide QRS makes P beats and a "Pacing rhythm" statement,
never left bundle branch block (L) or V beats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anyecg.findings.pacing import paced_beats, spike_score
from anyecg.findings.stream import beat_track, rhythm_findings
from anyecg.io.record import ECGRecord

FS = 360.0
MITDB = Path(__file__).resolve().parents[2] / "shared" / "data" / "mitdb"


def wide_beats(seconds: float = 60.0, bpm: float = 70.0, spikes: bool = True, seed: int = 0) -> ECGRecord:
    """Two leads (II, V1) of wide QRS complexes (≥ 120 ms; positive in II, QS in V1: a left-bundle-like shape),
    each with a 2-sample pacemaker spike 40 ms before its peak when `spikes` (the detector lands near the peak)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    t = np.arange(n) / FS
    x = np.zeros((2, n))
    onsets = np.arange(0.5, seconds - 1.0, 60.0 / bpm)
    for t0 in onsets:
        qrs = np.exp(-0.5 * ((t - (t0 + 0.04)) / 0.028) ** 2)  # wide, slow QRS
        tw = np.exp(-0.5 * ((t - (t0 + 0.35)) / 0.06) ** 2)
        x[0] += 1.2 * qrs - 0.3 * tw
        x[1] += -1.0 * qrs + 0.2 * tw
        if spikes:
            i = int(t0 * FS + 0.5)
            x[:, i:i + 2] += np.array([[1.0, -0.6], [0.8, -0.5]])
    x += 0.01 * rng.standard_normal(x.shape)
    return ECGRecord(signal=x.astype(np.float32), fs=FS, leads=("II", "V1"), source="synthetic-paced")


def test_spike_score_separates_spikes():
    paced, plain = wide_beats(), wide_beats(spikes=False)
    onsets = (np.arange(0.5, 59.0, 60.0 / 70.0) + 0.04) * FS
    s_paced = spike_score(paced.signal, FS, onsets.astype(int))
    s_plain = spike_score(plain.signal, FS, onsets.astype(int))
    assert np.nanmedian(s_paced) > 3 * np.nanmedian(s_plain)
    assert paced_beats(s_paced, 150.0).mean() > 0.9
    assert not paced_beats(s_paced, 90.0).any()  # a narrow QRS is conducted, whatever its edges
    assert np.isnan(spike_score(paced.signal, 128.0, onsets.astype(int))).all()  # too slow a rate to see spikes


def test_weaker_spikes_count_once_a_record_is_paced():
    """Hysteresis: in a record where most beats carry a spike, spikes at 0.6 × the threshold count too (their size
    varies with the lead); in one where few do, they do not."""
    from anyecg.findings.pacing import PACED_HYSTERESIS, spike_min

    thr = spike_min(360.0)
    weak = 0.6 * thr
    assert PACED_HYSTERESIS < 0.6
    paced = np.array([2 * thr] * 6 + [weak] * 3 + [0.0])
    assert paced_beats(paced, 150.0).tolist() == [True] * 9 + [False]
    few = np.array([2 * thr] * 2 + [weak] * 8)
    assert not paced_beats(few, 150.0).any()


def test_paced_signal_reads_pacing_not_lbbb():
    f = rhythm_findings(beat_track(wide_beats()))
    assert f.n_beats > 60
    assert f.beat_classes.count("P") > 0.9 * f.n_beats
    assert "L" not in f.beat_classes and f.beat_classes.count("V") < 0.05 * f.n_beats
    assert f.statement("Pacing rhythm") is not None and f.statement("Pacing rhythm").confidence > 0.9
    assert f.statement("Left bundle branch block") is None
    assert f.episodes_of("paced") and not f.episodes_of("sinus")


def test_same_beats_without_spikes_are_not_paced():
    f = rhythm_findings(beat_track(wide_beats(spikes=False)))
    assert "P" not in f.beat_classes and f.statement("Pacing rhythm") is None and not f.episodes_of("paced")


@pytest.mark.skipif(not (MITDB / "107.hea").exists(), reason="MIT-BIH not in ../shared/data")
def test_mitdb_107_is_paced():
    from anyecg.io import read_record

    f = rhythm_findings(beat_track(read_record(MITDB / "107", end_s=120.0)))
    assert f.beat_classes.count("P") > 0.7 * f.n_beats and "L" not in f.beat_classes
    assert f.statement("Pacing rhythm") is not None


def test_muscle_noise_is_no_spike():
    """Wide beats buried in high-frequency noise (a noisy Holter lead): the noise's sharp deflections before the QRS
    are as large as anything near it, so no beat carries a spike and nothing is read as paced."""
    rec = wide_beats(spikes=False)
    noisy = rec.signal + 0.15 * np.random.default_rng(1).standard_normal(rec.signal.shape).astype(np.float32)
    onsets = ((np.arange(0.5, 59.0, 60.0 / 70.0) + 0.04) * FS).astype(int)
    assert np.nanmean(spike_score(noisy, FS, onsets) > 0) < 0.2
    f = rhythm_findings(beat_track(ECGRecord(signal=noisy, fs=FS, leads=rec.leads, source="noisy")))
    assert "P" not in f.beat_classes and f.statement("Pacing rhythm") is None
