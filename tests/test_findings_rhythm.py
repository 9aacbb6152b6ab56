"""Rhythm episodes from generated RR sequences, the streaming reader, beat classes and real MIT-BIH records."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from anyecg.findings.beat_classes import checked_classes, conduction
from anyecg.findings.rhythm import irregularity, p_wave_score, rhythm_episodes
from anyecg.findings.stream import beat_track, rhythm_findings
from anyecg.io.record import BeatAnnotations, ECGRecord


def _times(rr: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.5], 0.5 + np.cumsum(rr)])


def _kinds(episodes) -> dict[str, float]:
    out: dict[str, float] = {}
    for e in episodes:
        out[e.kind] = out.get(e.kind, 0.0) + e.duration_s
    return out


def test_regular_rhythm_is_sinus_by_rate():
    rng = np.random.default_rng(0)
    for rr, kind in ((0.8, "sinus"), (1.2, "sinus_brady"), (0.5, "sinus_tachy")):
        t = _times(rr + 0.01 * rng.standard_normal(150))
        eps, notes = rhythm_episodes(t, p_score=np.full(len(t), 0.9))
        kinds = _kinds(eps)
        assert set(kinds) == {kind}, (rr, kinds)
        assert kinds[kind] > 0.95 * (t[-1] - t[0])
        assert not notes


def test_irregular_rr_without_p_waves_is_af():
    rng = np.random.default_rng(1)
    sinus = 0.8 + 0.01 * rng.standard_normal(100)
    af = rng.uniform(0.4, 1.0, 200)
    t = _times(np.concatenate([sinus, af, sinus]))
    p = np.concatenate([np.full(101, 0.9), np.full(200, 0.1), np.full(100, 0.9)])
    eps, _ = rhythm_episodes(t, p_score=p)
    af_eps = [e for e in eps if e.kind == "AF"]
    assert len(af_eps) == 1
    truth = (t[101], t[301])
    assert abs(af_eps[0].start_s - truth[0]) < 15 and abs(af_eps[0].end_s - truth[1]) < 15
    # the same irregular RR with clear P waves (sinus arrhythmia, wandering pacemaker) is not AF
    eps_p, _ = rhythm_episodes(t, p_score=np.full(len(t), 0.9))
    assert not [e for e in eps_p if e.kind == "AF"]
    # without P evidence the RR alone decides, and a note says so
    eps_rr, notes = rhythm_episodes(t)
    assert [e for e in eps_rr if e.kind == "AF"] and any("P-wave" in n for n in notes)


def test_mildly_irregular_rr_is_af_only_where_the_p_wave_is_absent():
    """AF whose conducted RR is only mildly irregular once the PVCs' intervals are left out (MIT-BIH 221) is AF
    when no P wave is seen at all; with an unclear or a clear P wave it is not."""
    t = _times(0.7 * (1 + 0.065 * np.resize([0, 1, 0, -1], 300)))  # every |ΔRR| 6.5 % of the RR
    irr = irregularity(t)
    assert np.nanmin(irr) > 0.05 and np.nanmax(irr) < 0.08  # under the irregularity that suffices with an unclear P
    for p, is_af in ((0.1, True), (0.5, False), (0.9, False)):
        eps, _ = rhythm_episodes(t, p_score=np.full(len(t), p))
        af = _kinds(eps).get("AF", 0.0)
        assert (af > 0.9 * (t[-1] - t[0])) if is_af else af == 0.0, (p, af)


def test_pause_v_run_and_bigeminy_recovered():
    rr = np.full(120, 0.8)
    rr[30] = 2.5  # pause between beats 30 and 31
    classes = ["N"] * 121
    for i in range(60, 65):  # 5 V beats at 0.4 s: VT
        classes[i] = "V"
        rr[i - 1] = 0.4
    for i in range(81, 95, 2):  # N V N V ... bigeminy (7 cycles)
        classes[i] = "V"
    t = _times(rr)
    eps, _ = rhythm_episodes(t, classes, p_score=np.full(len(t), 0.9))
    pauses = [e for e in eps if e.kind == "pause"]
    assert len(pauses) == 1 and pauses[0].start_s == pytest.approx(t[30]) and pauses[0].duration_s == pytest.approx(2.5)
    vt = [e for e in eps if e.kind == "VT"]
    assert len(vt) == 1 and vt[0].start_s == pytest.approx(t[60]) and vt[0].end_s == pytest.approx(t[64])
    assert vt[0].evidence.beats == tuple(range(60, 65))
    big = [e for e in eps if e.kind == "bigeminy"]
    assert len(big) == 1 and big[0].start_s == pytest.approx(t[80]) and big[0].end_s == pytest.approx(t[93])
    assert not [e for e in eps if e.kind in ("AF", "trigeminy", "SVT")]


def test_ectopic_beats_do_not_make_rr_irregular():
    rr = np.full(200, 0.8)
    classes = ["N"] * 201
    for i in range(10, 200, 2):  # bigeminy: short-long pairs around each V
        classes[i] = "V"
        rr[i - 1], rr[i] = 0.5, 1.1
    t = _times(rr)
    assert np.nanmax(irregularity(t, classes)) < 0.01
    assert np.nanmedian(irregularity(t)) > 0.3  # without the classes it would look like AF


def test_short_af_with_pvcs_is_irregular_and_sinus_with_pvcs_is_not():
    """A 10 s ECG: ectopic beats leave few successive normal intervals, so |ΔRR| is taken across them."""
    rng = np.random.default_rng(3)
    classes = ["N", "N", "V", "N", "N", "V", "N", "V", "N", "N", "N", "V", "N", "N"]
    af = _times(rng.uniform(0.45, 1.05, len(classes) - 1))
    assert np.nanmedian(irregularity(af, classes)) > 0.08
    rr = np.full(len(classes) - 1, 0.75)
    for i, c in enumerate(classes[1:]):
        if c == "V":
            rr[i], rr[i + 1] = 0.45, 1.05  # premature, then the compensatory pause
    assert np.nanmax(irregularity(_times(rr), classes)) < 0.02


@pytest.mark.parametrize("times", [np.zeros(0), np.array([0.2, 1.0])])
def test_bad_input_gives_notes(times):
    eps, notes = rhythm_episodes(times, duration_s=1.0)
    assert eps == () and notes and ("no beats" in notes[0] or "too short" in notes[0])


def test_flat_and_short_signal_give_notes_not_exceptions():
    flat = ECGRecord(np.zeros((2, 3600), np.float32), 360.0, ("II", "V1"))
    f = rhythm_findings(beat_track(flat))
    assert f.n_beats == 0 and f.notes == ("no beats detected",)
    t = np.arange(360) / 360.0
    strip = ECGRecord(np.stack([np.sin(2 * np.pi * t), np.cos(2 * np.pi * t)]).astype(np.float32), 360.0,
                      ("II", "V1"))
    assert rhythm_findings(beat_track(strip)).notes == ("no beats detected",)


def test_record_level_checks():
    # S inside AF → N; a V majority on a narrow dominant QRS or at a slow rate → N; a block turns N into L/R
    assert checked_classes("NSSV", block=None, af_mask=np.array([0, 1, 0, 0], bool)) == tuple("NNSV")
    assert checked_classes("VVVN", block=None, narrow=True) == tuple("NNNN")
    assert checked_classes("VVVN", block=None, v_rate_bpm=150.0) == tuple("VVVN")
    assert checked_classes("NNVS", block="R") == tuple("RRVS")
    far = "F" + "N" * 60 + "VF"  # a fusion beat needs a ventricular beat within FUSION_NEAR_V (50) beats
    assert checked_classes(far, block=None) == tuple("N" + "N" * 60 + "VF")
    assert checked_classes(far, block="L")[0] == "L"
    # conduction: a narrow template names no block; a wide one with a positive terminal V1 is right
    fs = 500.0
    tt = np.arange(250) / fs - 0.2
    narrow = np.stack([np.exp(-(tt / 0.012) ** 2)] * 2)
    assert conduction(narrow, fs, ("II", "V1")).block is None
    wide_v1 = np.exp(-((tt + 0.02) / 0.015) ** 2) * -0.3 + np.exp(-((tt - 0.05) / 0.02) ** 2)
    wide = np.stack([np.exp(-(tt / 0.05) ** 2), wide_v1])
    assert conduction(wide, fs, ("II", "V1"), qrs_ms=140.0).block == "R"
    assert conduction(-wide, fs, ("II", "V1"), qrs_ms=140.0).block == "L"
    assert conduction(wide, fs, ("II", "V5"), qrs_ms=140.0).block is None


def test_p_score_leaves_out_ventricular_beats_and_the_beat_after():
    """Trigeminy (N N V): a V beat has no P wave and its T wave fills the next beat's segment, so given the classes
    both get no P score and stay out of the template; the other N beats keep theirs."""
    from anyecg.signal.beats import bandpass

    fs = 360.0
    t = np.arange(int(60 * fs)) / fs
    cycles = np.arange(0.5, 58.0, 2.0)
    n_beats, v_beats = np.sort(np.concatenate([cycles, cycles + 0.6])), cycles + 1.1

    def bumps(centres, width):
        return np.exp(-((t[:, None] - centres[None, :]) / width) ** 2).sum(axis=1)

    ecg = 1.2 * bumps(n_beats, 0.012) + 0.15 * bumps(n_beats - 0.16, 0.025) + 0.25 * bumps(n_beats + 0.25, 0.05)
    ecg += -1.5 * bumps(v_beats, 0.035) + 0.8 * bumps(v_beats + 0.35, 0.1)
    beats = np.round(np.sort(np.concatenate([n_beats, v_beats])) * fs).astype(int)
    classes = ["NNV"[i % 3] for i in range(len(beats))]
    p = p_wave_score(bandpass(ecg, fs), fs, beats, classes=classes)
    after_n = np.arange(1, len(beats), 3)  # the second N of each cycle
    assert np.isnan(np.delete(p, np.r_[0, after_n])).all()  # beat 0 has no beat before it
    assert (p[after_n] > 0.95).all()
    assert not np.isnan(p_wave_score(bandpass(ecg, fs), fs, beats)[np.arange(2, len(beats), 3)]).all()


# ---- real records --------------------------------------------------------------------------------------------
def _record(shared_data, name: str, end_s: float | None = None):
    from anyecg.io import read_record

    path = shared_data / "mitdb" / name
    if not path.with_suffix(".hea").is_file():
        pytest.skip(f"MIT-BIH record {name} not in {shared_data / 'mitdb'}")
    return path, read_record(path, end_s=end_s)


def test_mitdb_sinus_record_100(shared_data):
    _, rec = _record(shared_data, "100")
    f = rhythm_findings(beat_track(rec))
    assert 2200 < f.n_beats < 2300
    assert not f.episodes_of("AF") and not f.episodes_of("VT")
    sinus = sum(e.duration_s for e in f.episodes if e.kind.startswith("sinus"))
    assert sinus > 0.95 * rec.duration_s
    assert f.beat_classes.count("N") > 0.9 * f.n_beats


@pytest.mark.parametrize(("name", "low", "high"), [("201", 20, 50), ("203", 70, 100)])
def test_mitdb_af_records(shared_data, name, low, high):
    _, rec = _record(shared_data, name)
    f = rhythm_findings(beat_track(rec))
    burden = 100 * sum(e.duration_s for e in f.episodes_of("AF")) / rec.duration_s
    assert low <= burden <= high


def test_sinus_tachycardia_with_pvcs_is_not_flutter(shared_data):
    """The demo's excerpt of record 208 (sinus tachycardia, frequent PVCs, fusion beats): no atrial flutter or AF
    (the PVCs' T waves once hid the P waves from the P score)."""
    path, _ = _record(shared_data, "208")
    f = rhythm_findings(beat_track(path, start_s=1174.5, end_s=1474.5))
    assert not f.episodes_of("AFL") and not f.episodes_of("AF")
    assert sum(e.duration_s for e in f.episodes if e.kind.startswith("sinus")) > 250


def test_a_long_sinus_record_read_whole_has_no_false_ventricular_beats(shared_data):
    """`read_findings` of 400 s of record 122 (sinus, no V beat annotated): longer than the span the delineation
    samples for its median beat, so only some beats are aligned by it; the beats are classified at their
    detections all the same (classifying at the mixed positions called 10 % of them V)."""
    from anyecg.findings.read import read_findings

    _, rec = _record(shared_data, "122", end_s=400.0)
    f = read_findings(rec)
    assert f.n_beats > 500
    assert f.beat_classes.count("V") <= 0.01 * f.n_beats


def test_streaming_blocks_find_the_annotated_beats_once(shared_data):
    """Blocks of 45 s (30 s margins) on 5 min of record 119 (bigeminy) find the annotated beats as well as one
    read of the span does, none twice across block edges, and the V beats."""
    from anyecg.findings.beat_classes import annotated_classes

    path, rec = _record(shared_data, "119", end_s=1200.0)
    span = replace(rec, signal=rec.signal[:, round(900 * rec.fs):])

    def truth(track):
        return annotated_classes(np.round((900 + track.times_s) * rec.fs), rec.beats.sample, rec.beats.symbol,
                                 rec.fs)

    blocks, whole = beat_track(path, start_s=900.0, end_s=1200.0, block_s=45.0), beat_track(span)
    assert (np.diff(blocks.times_s) >= 0.2).all()
    t_blocks, t_whole = truth(blocks), truth(whole)
    found = len(t_blocks) - t_blocks.count("Q")
    assert found >= len(t_whole) - t_whole.count("Q") - 2
    v_true = np.array([c == "V" for c in t_blocks])
    v_pred = np.array([c == "V" for c in blocks.classes])
    assert (v_true & v_pred).sum() / v_true.sum() > 0.9 and (v_true & v_pred).sum() / v_pred.sum() > 0.9


def test_rhythm_targets_resolve():
    from anyecg.findings.locate import TARGET_EPISODES
    from anyecg.targets import resolve_target

    for what, key in (("AF", "(AFIB"), ("afl", "(AFL"), ("VT", "(VT"), ("svt", "(SVTA"), ("pause", "(PAUSE"),
                      ("bigeminy", "(B"), ("trigeminy", "(T"), ("sinus bradycardia", "(SBR")):
        target = resolve_target(what)
        assert target.kind == "rhythm" and target.key == key and key in TARGET_EPISODES
    assert resolve_target("pause").description == "Pause"


def test_locate_af_in_a_window_of_record_201(shared_data):
    """Record 201's last AF episode starts at 1597 s by the annotations: a 60 s window around the onset is
    answered with an interval from near the onset (±16 beats: the irregularity window) to the window end, in
    the paper's format."""
    from anyecg.findings.locate import TARGET_EPISODES, episode_intervals
    from anyecg.findings.stream import beat_track, rhythm_findings
    from anyecg.scan import scan
    from anyecg.signal.intervals import format_answer

    path, rec = _record(shared_data, "201", end_s=1.0)
    onset = max(e.start_s for e in rec.events if e.label == "(AFIB")
    def locate_af(start_s: float, end_s: float) -> list[tuple[float, float]]:
        track = beat_track(path, start_s=start_s, end_s=end_s)  # the file read with margins around the window
        return episode_intervals(rhythm_findings(track), TARGET_EPISODES["(AFIB"])

    found = locate_af(onset - 30.0, onset + 30.0)
    assert len(found) == 1 and abs(found[0][0] - 30.0) < 20.0 and found[0][1] == pytest.approx(60.0, abs=1.0)
    assert format_answer(found, "Atrial fibrillation").startswith("Duration: ")
    assert locate_af(1200.0, 1260.0) == []  # sinus with trigeminy
    whole = scan(None, path, targets=["AF", "pause"], engine="findings", progress=False)
    rows = {r["target"]: r for r in whole.summary()}
    assert rows["AF"]["total_s"] > 300 and rows["pause"]["episodes"] > 0


@pytest.mark.parametrize("fs", [50.0, 360.0, 5000.0])
def test_generated_ecg_at_any_rate_reads_sinus(fs):
    """A generated 2-lead ECG (QRS-like pulses at 75 bpm, small T waves, noise) at 50 Hz, 360 Hz and 5 kHz:
    the beats are found and the rhythm is sinus, whatever the rate."""
    rng = np.random.default_rng(3)
    t = np.arange(int(60 * fs)) / fs
    beats = np.arange(0.5, 59.5, 0.8)
    ecg = sum(1.2 * np.exp(-((t - b) / 0.012) ** 2) + 0.25 * np.exp(-((t - b - 0.25) / 0.05) ** 2) for b in beats)
    sig = np.stack([ecg, -0.5 * ecg]) + 0.02 * rng.standard_normal((2, len(t)))
    f = rhythm_findings(beat_track(ECGRecord(sig.astype(np.float32), fs, ("II", "V1"))))
    assert abs(f.n_beats - len(beats)) <= 2
    assert {e.kind for e in f.episodes} == {"sinus"}
    assert set(f.beat_classes) <= {"N", "Q"} and f.beat_classes.count("N") > 0.9 * f.n_beats


def test_a_gap_with_a_baseline_jump_is_no_pause():
    """Two 3 s gaps without beats in a generated ECG: a flat one is a pause; one whose baseline swings away and
    decays (electrode motion: 3 mV pulled back over 2 s) is not, and a note says so."""
    fs = 360.0
    t = np.arange(int(60 * fs)) / fs
    beats = np.concatenate([np.arange(0.5, 20.0, 0.8), np.arange(22.6, 40.0, 0.8), np.arange(42.6, 59.5, 0.8)])
    ecg = sum(1.2 * np.exp(-((t - b) / 0.012) ** 2) + 0.25 * np.exp(-((t - b - 0.25) / 0.05) ** 2) for b in beats)
    after = t - 40.9
    ecg += np.where(after > 0, 3.0 * (1 - np.exp(-after / 0.25)) * np.exp(-after / 0.8), 0.0)
    sig = np.stack([ecg, -0.5 * ecg]) + 0.02 * np.random.default_rng(4).standard_normal((2, len(t)))
    f = rhythm_findings(beat_track(ECGRecord(sig.astype(np.float32), fs, ("II", "V1"))))
    pauses = [e for e in f.episodes if e.kind == "pause"]
    assert len(pauses) == 1 and pauses[0].start_s == pytest.approx(19.7, abs=0.05)
    assert any("not read as pauses" in n for n in f.notes)


def test_beat_scoring_counts_the_annotated_beats_no_detection_matched():
    """The beats table's sensitivity counts a missed annotated beat against its class (before stop 30 only detected
    beats were scored, which overstated it)."""
    from anyecg.eval.rhythm import MISSED, _sens_ppv, confusion
    from anyecg.findings.beat_classes import annotated_classes, missed_classes
    from anyecg.findings.types import ECGFindings

    fs = 360.0
    sample = np.array([360, 720, 900, 1260, 1620, 1980])
    symbol = ["N", "N", "V", "N", "~", "V"]  # '~' is no beat
    detected = np.array([361, 722, 1262, 1500])  # both V missed; a false detection at 1500
    assert annotated_classes(detected, sample, symbol, fs) == ("N", "N", "N", "Q")
    assert missed_classes(detected, sample, symbol, fs) == ("V", "V")
    rec = ECGRecord(np.zeros((1, 2400), dtype=np.float32), fs, ("II",),
                    beats=BeatAnnotations(sample, tuple(symbol), ("",) * len(symbol)))
    found = ECGFindings("test", fs, 0.0, 2400 / fs, ("II",), beat_times_s=detected / fs,
                        beat_classes=("N", "N", "V", "N"))
    conf = confusion([rec], lambda _: found)
    assert conf[("V", MISSED)] == 2 and _sens_ppv(conf, "V") == (0.0, 0.0)
    assert _sens_ppv(conf, "N")[0] == 2 / 3  # the N at 1262 was called V


def test_an_ensemble_of_beat_classifiers_averages_their_logits():
    from anyecg.findings.beat_classes import CLASSES
    from anyecg.train.findings_beats import ensemble, train

    rng = np.random.default_rng(0)
    labels = rng.integers(0, len(CLASSES), 400)
    feats = rng.standard_normal((400, 6)).astype(np.float32) + labels[:, None].astype(np.float32)
    members = [train(feats, labels, epochs=2, seed=s, hidden=(8, 4)) for s in range(3)]
    one = ensemble(members)
    assert [w.shape for w, _ in one.layers] == [(24, 6), (12, 24), (len(CLASSES), 12)]
    expected = np.mean([m.logits(feats) for m in members], axis=0)
    np.testing.assert_allclose(one.logits(feats), expected, rtol=1e-4, atol=1e-5)
    assert one.predict(feats) == tuple(CLASSES[i] for i in expected.argmax(axis=1))
