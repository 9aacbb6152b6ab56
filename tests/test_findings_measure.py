"""The machine read: delineation and measurements on generated ECGs with set intervals and on LUDB (tuning
records 1-120 only), bad input, `anyecg measure` and `anyecg plot --measure`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import wfdb

from anyecg.cli import main
from anyecg.findings.measure import _s_depth, rr_stats
from anyecg.findings.read import RHYTHM_CONTEXT_S, _classes_in_context, read_findings, read_window
from anyecg.io import read_record
from anyecg.io.record import ECGRecord
from anyecg.signal.beats import detect_beats_multilead
from ecg_synth import synthetic_ecg

# generated lobes are smoother than real waves at their ends: looser than the IEC tolerances
TOL_MS = {"p_ms": 20, "pr_ms": 20, "qrs_ms": 15, "qt_ms": 25}


def _record(s, **meta) -> ECGRecord:
    return ECGRecord(s.signal, s.fs, s.leads, metadata=meta)


@pytest.mark.parametrize("kw", [
    {},
    {"pr_ms": 220.0, "qrs_ms": 130.0, "qt_ms": 440.0, "rr_s": 1.0},
    {"rr_s": 0.6, "qt_ms": 320.0, "pr_ms": 140.0},
    {"fs": 250.0, "rr_sd_s": 0.05},
    {"fs": 1000.0, "p_ms": 120.0},
])
def test_synthetic_intervals_recovered(kw):
    s = synthetic_ecg(**kw)
    f = read_findings(_record(s))
    m = f.measurements
    assert f.n_beats == len(s.r_times_s)
    np.testing.assert_allclose(f.beat_times_s, s.r_times_s, atol=0.03)
    for key, tol in TOL_MS.items():
        assert abs(getattr(m, key) - getattr(s, key)) <= tol, (key, getattr(m, key), getattr(s, key))
    rr = np.diff(s.r_times_s) * 1000
    assert m.heart_rate_bpm == pytest.approx(60000 / rr.mean(), rel=0.02)
    assert m.qtc_bazett_ms == pytest.approx(m.qt_ms / np.sqrt(m.rr_mean_ms / 1000))
    assert m.qtc_fridericia_ms == pytest.approx(m.qt_ms / (m.rr_mean_ms / 1000) ** (1 / 3))
    assert abs(m.qrs_axis_deg - s.qrs_axis_deg) <= 10
    assert set(m.r_amp_mv) == set(s.leads) and set(m.st_j60_mv) == set(s.leads)
    if s.qt_ms - 220 > s.qrs_ms + 60:  # J+60 ms before the generated T wave starts
        assert abs(m.st_j60_mv["II"]) < 0.05  # no ST shift was generated
    assert m.low_voltage_limb is False and m.low_voltage_precordial is False


def test_waves_per_beat_follow_the_median_beat():
    s = synthetic_ecg(rr_sd_s=0.05)
    w = read_findings(_record(s)).waves
    has_p = w.p_on >= 0
    assert has_p[1:-1].mean() >= 0.8  # dominant beats carry the median beat's P
    pr = (w.qrs_on[has_p] - w.p_on[has_p]) / s.fs * 1000
    assert np.all(np.abs(pr - s.pr_ms) <= TOL_MS["pr_ms"])
    assert np.all(w.p_on[has_p] < w.p_off[has_p]) and np.all(w.qrs_off[1:-1] < w.t_off[1:-1])


def test_ectopic_beats_get_their_own_qrs():
    s = synthetic_ecg(duration_s=20.0, ectopic=(4, 12))
    f = read_findings(_record(s))
    w, m = f.waves, f.measurements
    width = (w.qrs_off - w.qrs_on) / s.fs * 1000
    assert abs(m.qrs_ms - s.qrs_ms) <= TOL_MS["qrs_ms"]  # the median beat is the dominant one
    assert np.all(width[[4, 12]] >= 130) and np.all(w.p_on[[4, 12]] == -1)
    normal = np.setdiff1d(np.arange(1, f.n_beats - 1), [4, 12])
    assert np.all(np.abs(width[normal] - m.qrs_ms) < 1)


def test_irregular_rhythm_without_p_waves():
    s = synthetic_ecg(p_wave=False, rr_sd_s=0.2, seed=3)
    f = read_findings(_record(s))
    m = f.measurements
    assert m.p_ms is None and m.pr_ms is None and "no P wave found" in f.notes
    assert m.rr_cv > 0.1 and m.qrs_ms is not None
    assert np.all(f.waves.p_on == -1)


def test_rr_stats():
    beats = np.array([0, 500, 1000, 1600, 2100])  # RR 1000, 1000, 1200, 1000 ms at 500 Hz
    st = rr_stats(beats, 500.0)
    assert st["rr_mean_ms"] == pytest.approx(1050.0)
    assert st["heart_rate_bpm"] == pytest.approx(60000 / 1050)
    assert st["pnn50"] == pytest.approx(2 / 3)
    assert rr_stats(np.array([10]), 500.0)["heart_rate_bpm"] is None


def test_s_depth_of_qr_qs_and_rsr_complexes():
    t = np.linspace(0.0, 1.0, 60)
    qr = -0.2 * np.exp(-((t - 0.15) / 0.05) ** 2) + 1.5 * np.exp(-((t - 0.4) / 0.1) ** 2)
    assert _s_depth(qr, float(qr.max())) < 0.05  # a small q before a tall R is no S
    # LBBB's V1: a deep QS, then the discordant ST elevation inside a late QRS offset
    qs_st = -1.1 * np.exp(-((t - 0.3) / 0.1) ** 2) + 0.7 * np.clip((t - 0.6) / 0.4, 0.0, 1.0)
    assert _s_depth(qs_st, float(qs_st.max())) == pytest.approx(1.1, abs=0.05)
    rsr = 0.3 * np.exp(-((t - 0.2) / 0.06) ** 2) - 0.5 * np.exp(-((t - 0.45) / 0.07) ** 2) + \
        0.9 * np.exp(-((t - 0.75) / 0.08) ** 2)  # RBBB's V1: rsR'
    assert _s_depth(rsr, float(rsr.max())) < 0.05  # R' is the tallest: nothing deeper than it before, none after


@pytest.mark.parametrize("record,start", [("111", 510.7), ("214", 364.3)])
def test_lbbb_windows_read_as_lbbb_not_rbbb(shared_data, record, start):
    """MIT-BIH LBBB records on II + V1: V1's QS with discordant ST elevation is no terminal R."""
    f = read_findings(read_record(shared_data / "mitdb" / record), start_s=start, end_s=start + 10)
    names = {s.name for s in f.statements}
    assert "Left bundle branch block" in names and "Right bundle branch block" not in names
    assert f.measurements.s_amp_mv["V1"] > f.measurements.r_amp_mv["V1"]


def test_multilead_vote_survives_a_noisy_lead():
    s = synthetic_ecg(duration_s=20.0)
    x = s.signal.copy()
    x[3] = np.random.default_rng(0).standard_normal(x.shape[1]).astype(np.float32)
    beats = detect_beats_multilead(x, s.fs) / s.fs
    assert len(beats) == len(s.r_times_s)
    np.testing.assert_allclose(beats, s.r_times_s, atol=0.03)


@pytest.mark.parametrize("case", ["flat_lead", "all_flat", "one_second", "5khz", "50hz", "nans", "all_nan_lead"])
def test_bad_input_gives_notes_not_exceptions(case):
    fs = {"5khz": 5000.0, "50hz": 50.0}.get(case, 500.0)
    s = synthetic_ecg(fs=fs, duration_s=1.0 if case == "one_second" else 10.0)
    x = s.signal.copy()
    if case == "flat_lead":
        x[7] = 0.0
    elif case == "all_flat":
        x[:] = 0.2
    elif case == "nans":
        x[:, 1000:1100] = np.nan
    elif case == "all_nan_lead":
        x[2] = np.nan
    f = read_findings(ECGRecord(x, fs, s.leads))
    json.dumps(f.to_dict())
    notes = " ".join(f.notes)
    if case == "flat_lead":
        assert "V2" in notes and f.measurements.qrs_ms is not None and "V2" not in f.measurements.r_amp_mv
    elif case == "all_flat":
        assert "no beats detected" in notes and f.measurements.heart_rate_bpm is None
    elif case == "one_second":
        assert "too short for rhythm" in notes and "no beats detected" in notes
    elif case == "50hz":
        assert "low sampling rate" in notes and f.measurements.heart_rate_bpm == pytest.approx(70, abs=3)
    elif case == "5khz":
        assert abs(f.measurements.qrs_ms - s.qrs_ms) <= TOL_MS["qrs_ms"]
    elif case == "nans":
        assert "NaN" in notes and f.measurements.qrs_ms is not None
    else:
        assert "III" in notes and f.measurements.qrs_axis_deg is not None  # axis from I and aVF


def test_window_read_reports_times_from_its_start():
    s = synthetic_ecg(duration_s=20.0)
    f = read_findings(_record(s), start_s=10.0, end_s=20.0)
    assert f.start_s == 10.0 and f.duration_s == pytest.approx(10.0)
    expected = s.r_times_s[(s.r_times_s > 10.2) & (s.r_times_s < 19.6)] - 10.0
    assert all(np.min(np.abs(f.beat_times_s - t)) < 0.03 for t in expected)


def test_window_rhythm_read_in_the_context_of_its_recording(shared_data):
    """A window of a longer record gets its rhythm episodes from the window and up to RHYTHM_CONTEXT_S around it,
    in window seconds; measurements and beats stay the window's; the same window cut out alone has no context."""
    path = shared_data / "mitdb" / "201"
    record = read_window(path, start_s=60.0, end_s=70.0)
    assert record.offset_s == pytest.approx(60.0 - RHYTHM_CONTEXT_S) and \
        record.duration_s == pytest.approx(10.0 + 2 * RHYTHM_CONTEXT_S)
    f = read_findings(record, start_s=60.0, end_s=70.0)
    assert f.start_s == 60.0 and f.duration_s == pytest.approx(10.0)
    assert all(0.0 <= e.start_s < e.end_s <= 10.0 + 1e-9 for e in f.episodes)
    assert any("60 s before and 60 s after" in n for n in f.notes)
    assert f.beat_times_s.max() < 10.0
    alone = read_findings(read_record(path, start_s=60.0, end_s=70.0, annotations=False))
    assert not any("read with" in n for n in alone.notes)
    assert alone.measurements.heart_rate_bpm == pytest.approx(f.measurements.heart_rate_bpm)
    first = read_window(path, start_s=0.0, end_s=10.0)  # clamped at the recording's start
    assert first.offset_s == 0.0 and first.duration_s == pytest.approx(10.0 + RHYTHM_CONTEXT_S)
    assert any("0 s before and 60 s after" in n for n in read_findings(first, start_s=0.0, end_s=10.0).notes)


def test_record_cut_keeps_its_clock_and_drops_annotations(shared_data):
    record = read_record(shared_data / "mitdb" / "201", start_s=50.0, end_s=80.0)
    cut = record.cut(60.0, 70.0)
    assert cut.offset_s == pytest.approx(60.0) and cut.duration_s == pytest.approx(10.0)
    assert np.array_equal(cut.signal, record.signal[:, 3600:7200]) and cut.beats is None and cut.events == ()
    assert record.cut(40.0, 100.0).duration_s == pytest.approx(record.duration_s)  # clamped to the record


def test_window_beats_take_the_class_of_the_nearest_context_beat():
    times = np.array([0.5, 1.3, 2.1, 2.9])
    context_t = np.array([-0.3, 0.52, 1.26, 2.4, 2.95])
    out = _classes_in_context(times, ("N", "N", "N", "N"), context_t, ("N", "V", "S", "V", "N"))
    assert out == ("V", "S", "N", "N")  # 2.1 s has no context beat within 75 ms: its own class stays
    assert _classes_in_context(times, ("N",) * 4, np.zeros(0), ()) == ("N",) * 4


def test_unknown_lead_positions_from_a_file_named_ecg(tmp_path):
    s = synthetic_ecg(duration_s=10.0)
    wfdb.wrsamp("rec", fs=500, units=["mV", "mV"], sig_name=["ECG1", "ECG2"],
                p_signal=s.signal[[1, 6]].T.astype(np.float64), fmt=["16", "16"], write_dir=str(tmp_path))
    rec = read_record(tmp_path / "rec")
    f = read_findings(rec)
    m = f.measurements
    assert f.lead_positions_known is False and any("lead positions unknown" in n for n in f.notes)
    assert m.qrs_axis_deg is None and m.r_amp_mv == {} and m.low_voltage_limb is None
    assert m.heart_rate_bpm is not None and m.qrs_ms is not None
    mapped = read_findings(read_record(tmp_path / "rec", lead_map="ECG1=II,ECG2=V1"))
    assert mapped.lead_positions_known is True and "II" in mapped.measurements.r_amp_mv


@pytest.mark.parametrize("record", [2, 5, 30, 40, 100])
def test_ludb_tuning_records_within_tolerance(shared_data, record):
    """LUDB records from the tuning set (1-120): global intervals against the cardiologists' within twice the
    IEC 60601-2-51 mean tolerance per record."""
    from anyecg.eval.delineation import IEC_TOLERANCE, ludb_truth

    path = shared_data / "ludb" / "data" / str(record)
    truth = ludb_truth(path)
    m = read_findings(read_record(path, annotations=False)).measurements
    for key in ("pr_ms", "qrs_ms", "qt_ms"):
        assert abs(getattr(m, key) - truth[key]) <= 2 * IEC_TOLERANCE[key][0] + 10, (key, getattr(m, key),
                                                                                     truth[key])


def test_ptbxl_record_where_no_beat_confirms_the_p(shared_data):
    """PTB-XL 279 (training fold 5): every beat's previous T wave reaches into the P found; once a crash."""
    f = read_findings(read_record(shared_data / "ptbxl-500" / "records500" / "00000" / "00279_hr"))
    assert f.measurements.qrs_ms is not None and f.n_beats > 5


def test_measure_json(shared_data, capsys):
    assert main(["measure", str(shared_data / "ludb" / "data" / "3"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("heart_rate_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "qrs_axis_deg", "statements", "episodes"):
        assert key in d
    assert 50 < d["heart_rate_bpm"] < 90 and 60 < d["qrs_ms"] < 140 and d["qtc_ms"] == d["qtc_bazett_ms"]
    assert isinstance(d["statements"], list) and isinstance(d["episodes"], list)


def test_measure_text_on_a_window(shared_data, capsys):
    assert main(["measure", str(shared_data / "mitdb" / "100"), "--start", "60", "--end", "70"]) == 0
    out = capsys.readouterr().out
    assert "Vent. rate" in out and "PR interval" in out and "QT / QTc" in out
    assert "from 60 s" in out


def test_measure_names_the_file_on_bad_input(tmp_path, capsys):
    assert main(["measure", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv" in capsys.readouterr().err


@pytest.mark.parametrize("start,end", [("1800", "1810"), ("2000", "2010"), ("20", "10")])
def test_measure_names_the_window_asked_when_it_leaves_the_record(shared_data, capsys, start, end):
    """The window is read with its context, but a bad window is reported as the user gave it."""
    assert main(["measure", str(shared_data / "mitdb" / "100"), "--start", start, "--end", end]) == 2
    err = capsys.readouterr().err
    assert f"window {start}-{end} s lies outside the record (0-1805.56 s)" in err and "Traceback" not in err


def test_plot_measure_marks(shared_data, tmp_path):
    out = tmp_path / "m.png"
    assert main(["plot", str(shared_data / "ludb" / "data" / "2"), "--measure", "--leads", "II,V1",
                 "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000


def test_plot_marks_only_at_true_scale():
    from anyecg.findings.marks import plot_marks
    from anyecg.signal.plot import figure

    s = synthetic_ecg(duration_s=90.0)
    record = _record(s)
    marks, _ = plot_marks(read_findings(record, end_s=10.0))
    assert {label for _, label in marks} == {"P(", ")P", "Q(", ")J", ")T"}
    short = figure(record, end_s=10.0, leads=["II"], marks=marks, spans=[(1.0, 2.0, "test")])
    long = figure(record, leads=["II"], marks=marks, spans=[(1.0, 2.0, "test")])
    assert len(short.axes[0].lines) == 1 + len(marks)  # the trace and one line per mark
    assert len(long.axes[0].lines) == 1
    assert any(t.get_text() == "test" for t in long.axes[0].texts)
