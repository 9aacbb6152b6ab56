"""Statements: criteria on constructed measurements, the classifier on real records, the combination."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from anyecg.findings.classifier import DEFAULT_WEIGHTS, N_FEATURES, load_classifier, record_features
from anyecg.findings.criteria import apply_criteria, sigmoid_margin
from anyecg.findings.statements import combine, make_statements, score_statements, without_contradictions
from anyecg.findings.types import ECGFindings, Episode, Evidence, Measurements, Statement
from anyecg.leads import CANONICAL_LEADS
from anyecg.vocabulary import STATEMENTS

LEADS = CANONICAL_LEADS
NORMAL_R = {lead: 0.8 for lead in LEADS} | {"V1": 0.2, "aVR": 0.1}
NORMAL_S = {lead: 0.2 for lead in LEADS} | {"V1": 0.9, "aVR": 0.7}


def findings(known: bool = True, beat_classes: tuple[str, ...] = (), episodes: tuple[Episode, ...] = (),
             **values) -> ECGFindings:
    base = {"heart_rate_bpm": 72.0, "rr_cv": 0.03, "pr_ms": 160.0, "qrs_ms": 90.0, "qtc_bazett_ms": 420.0,
            "qrs_axis_deg": 45.0, "r_amp_mv": dict(NORMAL_R), "s_amp_mv": dict(NORMAL_S),
            "st_j60_mv": dict.fromkeys(LEADS, 0.0)}
    m = Measurements(**(base | values))
    return ECGFindings(source="constructed", fs=500.0, start_s=0.0, duration_s=10.0, leads=LEADS,
                       lead_positions_known=known, beat_classes=beat_classes, episodes=episodes, measurements=m)


def conf(f: ECGFindings, name: str, **kw) -> float:
    return apply_criteria(f, **kw)[name].confidence


def test_normal_measurements_read_normal():
    out = apply_criteria(findings())
    assert out["Normal ECG"].confidence > 0.7 and out["Sinus rhythm"].confidence > 0.8
    abnormal = [n for n, s in out.items() if s.confidence >= 0.5 and n not in ("Normal ECG", "Sinus rhythm")]
    assert abnormal == []
    assert set(out) <= set(STATEMENTS)


def test_rbbb_lbbb_irbbb():
    rsr = findings(qrs_ms=140.0, r_amp_mv=NORMAL_R | {"V1": 0.8}, s_amp_mv=NORMAL_S | {"V1": 0.3, "I": 0.4})
    assert conf(rsr, "Right bundle branch block") > 0.9 and conf(rsr, "Left bundle branch block") < 0.1
    assert apply_criteria(rsr)["Right bundle branch block"].evidence.leads == ("V1",)
    lbbb = findings(qrs_ms=150.0, r_amp_mv=NORMAL_R | {"V1": 0.05, "V6": 1.2, "I": 1.0},
                    s_amp_mv=NORMAL_S | {"V1": 1.5, "V6": 0.0, "I": 0.0})
    assert conf(lbbb, "Left bundle branch block") > 0.9 and conf(lbbb, "Right bundle branch block") < 0.1
    assert conf(findings(qrs_ms=100.0, r_amp_mv=NORMAL_R | {"V1": 0.8}, s_amp_mv=NORMAL_S | {"V1": 0.3}),
                "Right bundle branch block") < 0.1
    irbbb = findings(qrs_ms=115.0, r_amp_mv=NORMAL_R | {"V1": 0.8}, s_amp_mv=NORMAL_S | {"V1": 0.3})
    assert conf(irbbb, "Incomplete right bundle branch block") > 0.6
    assert conf(findings(qrs_ms=90.0), "Incomplete right bundle branch block") < 0.1


def test_av_block_axis_lafb_rates():
    assert conf(findings(pr_ms=240.0), "First degree AV block") > 0.95
    assert conf(findings(pr_ms=170.0), "First degree AV block") < 0.05
    assert conf(findings(qrs_axis_deg=-45.0), "Left axis deviation") > 0.95
    assert conf(findings(qrs_axis_deg=-60.0), "Left anterior fascicular block") > 0.95
    assert conf(findings(qrs_axis_deg=-60.0, qrs_ms=150.0), "Left anterior fascicular block") < 0.05
    assert conf(findings(qrs_axis_deg=120.0), "Right axis deviation") > 0.95
    assert conf(findings(qrs_axis_deg=45.0), "Left axis deviation") < 0.05
    assert conf(findings(heart_rate_bpm=48.0), "Sinus bradycardia") > 0.8
    assert conf(findings(heart_rate_bpm=125.0), "Sinus tachycardia") > 0.8
    assert conf(findings(qtc_bazett_ms=510.0), "Prolonged QT interval") > 0.95


def test_af_from_measurements_and_from_episodes():
    af = findings(rr_cv=0.25, pr_ms=None, heart_rate_bpm=110.0)
    assert conf(af, "Atrial fibrillation") > 0.8
    assert conf(af, "Sinus tachycardia") < 0.1 and conf(af, "Normal ECG") < 0.1
    assert conf(findings(), "Atrial fibrillation") < 0.05
    ep = (Episode("AF", 0.0, 9.0, Evidence(reason="irregular")),)
    out = apply_criteria(findings(episodes=ep, rr_cv=0.25, pr_ms=None))["Atrial fibrillation"]
    assert out.confidence == pytest.approx((0.9 + 0.9 * sigmoid_margin(0.25, 0.1, 0.02)) / 2)
    assert out.evidence.end_s == 9.0 and "90 %" in out.evidence.reason
    assert conf(findings(episodes=ep), "Atrial fibrillation") < 0.5  # regular, with P waves: the episodes alone


def test_af_from_the_sinus_conducted_intervals_when_the_episodes_miss_it():
    """A 10 s ECG whose rhythm episodes found no AF (sinus read: f waves scored as P waves) is still AF when the
    intervals between its conducted beats are irregular and no P wave was measured; sinus bigeminy, whose
    intervals all touch a PVC, and a regular rhythm with PVCs are not."""
    rng = np.random.default_rng(3)
    sinus_ep = (Episode("sinus", 0.0, 10.0, Evidence(reason="sinus")),)
    t_af = np.cumsum(rng.uniform(0.45, 0.95, 16))
    cls_af = tuple("V" if i in (5, 11) else "N" for i in range(16))
    af = replace(findings(rr_cv=0.25, pr_ms=None, episodes=sinus_ep, beat_classes=cls_af), beat_times_s=t_af)
    s = apply_criteria(af)["Atrial fibrillation"]
    assert s.confidence > 0.8 and "sinus-conducted" in s.evidence.reason
    t_big = np.cumsum(np.tile([0.55, 1.05], 8))
    bigeminy = replace(findings(rr_cv=0.33, pr_ms=None, episodes=sinus_ep, beat_classes=("N", "V") * 8),
                       beat_times_s=t_big)
    assert conf(bigeminy, "Atrial fibrillation") < 0.5
    t_pvc = np.cumsum([0.8] * 5 + [0.5, 1.1] + [0.8] * 5 + [0.5, 1.1] + [0.8] * 2)
    cls_pvc = tuple("V" if i in (5, 12) else "N" for i in range(16))
    pvcs = replace(findings(rr_cv=0.2, pr_ms=None, episodes=sinus_ep, beat_classes=cls_pvc), beat_times_s=t_pvc)
    assert conf(pvcs, "Atrial fibrillation") < 0.5


def test_lvh_voltage_only_with_real_amplitudes():
    lvh = findings(s_amp_mv=NORMAL_S | {"V1": 2.0}, r_amp_mv=NORMAL_R | {"V5": 2.4})
    assert conf(lvh, "Left ventricular hypertrophy") > 0.95
    assert "Left ventricular hypertrophy" not in apply_criteria(lvh, amplitudes_real=False)
    assert conf(findings(), "Left ventricular hypertrophy") < 0.05


def test_st_by_lead_group():
    inferior = findings(st_j60_mv=dict.fromkeys(LEADS, 0.0) | {"II": 0.25, "III": 0.3, "aVF": 0.2})
    st = apply_criteria(inferior)["ST elevation"]
    assert st.confidence > 0.95 and set(st.evidence.leads) == {"II", "III", "aVF"}
    assert "inferior" in st.evidence.reason
    one_lead = findings(st_j60_mv=dict.fromkeys(LEADS, 0.0) | {"III": 0.3})
    assert conf(one_lead, "ST elevation") < 0.1  # two contiguous leads needed
    v2v3 = findings(st_j60_mv=dict.fromkeys(LEADS, 0.0) | {"V2": 0.15, "V3": 0.15})
    assert conf(v2v3, "ST elevation") < 0.5  # V2-V3 need 0.2 mV
    depressed = findings(st_j60_mv=dict.fromkeys(LEADS, 0.0) | {"V4": -0.15, "V5": -0.2, "V6": -0.12})
    assert conf(depressed, "ST depression") > 0.9 and conf(depressed, "ST elevation") < 0.05


def test_ectopy_and_low_voltage():
    f = findings(beat_classes=("N", "N", "V", "N", "V", "N", "S"))
    out = apply_criteria(f)
    assert out["Premature ventricular contraction"].confidence > 0.85
    assert out["Premature ventricular contraction"].evidence.beats == (2, 4)
    assert out["Premature atrial contraction"].confidence == pytest.approx(0.75)
    assert conf(findings(beat_classes=("N",) * 10), "Premature ventricular contraction") < 0.1
    low = findings(r_amp_mv=dict.fromkeys(LEADS, 0.2), s_amp_mv=dict.fromkeys(LEADS, 0.1))
    assert conf(low, "Low QRS voltages") > 0.9 and conf(findings(), "Low QRS voltages") < 0.05


def test_unknown_leads_make_no_lead_statements():
    out = apply_criteria(findings(known=False, qrs_ms=140.0, qrs_axis_deg=-60.0))
    for name in ("Right bundle branch block", "Left bundle branch block", "Left axis deviation",
                 "Left anterior fascicular block", "ST elevation", "Left ventricular hypertrophy"):
        assert name not in out
    assert "First degree AV block" in out  # intervals need no lead position


def test_missing_values_make_no_statement():
    empty = ECGFindings(source="x", fs=500.0, start_s=0.0, duration_s=1.0, leads=LEADS)
    assert apply_criteria(empty) == {}
    assert score_statements(empty, np.zeros((12, 500))) == {}


def test_combine_sources():
    rule = Statement("Right bundle branch block", 0.9, "criteria", Evidence(leads=("V1",), reason="QRS 140 ms"))
    out = combine({rule.name: rule}, {"Right bundle branch block": 0.5, "Inferior myocardial infarction": 0.7})
    both = out["Right bundle branch block"]
    assert both.source == "both" and both.confidence == pytest.approx(0.7 * 0.9 + 0.3 * 0.5)
    assert both.evidence.leads == ("V1",)
    assert out["Inferior myocardial infarction"].source == "classifier"


def test_features_need_12_leads_and_beats():
    x = np.zeros((12, 5000))
    assert record_features(x, 500.0, LEADS) is None
    assert record_features(x[:2], 500.0, LEADS[:2]) is None


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="classifier weights not trained")
def test_classifier_scores_a_real_af_record(shared_data):
    from anyecg.io import read_record

    clf = load_classifier()
    assert clf.coef.shape == (len(clf.names), N_FEATURES) and set(clf.names) <= set(STATEMENTS)
    assert DEFAULT_WEIGHTS.stat().st_size < 5_000_000
    rec = read_record(shared_data / "cpsc2018-a0001-a0150" / "A0004.hea")  # training record, Dx AF
    p = clf.predict(record_features(rec.signal, rec.fs, rec.leads))
    assert p["Atrial fibrillation"] > 0.5 > p["Normal ECG"]


def test_statements_on_real_cpsc_records(shared_data):
    from anyecg.findings.read import read_findings
    from anyecg.io import read_record

    # the first CPSC2018 record with AF and with RBBB (training records: the held-out figures are in
    # docs/results/findings_statements.md)
    folder = shared_data / "cpsc2018-a0001-a0150"
    for key, name in (("A0003", "Atrial fibrillation"), ("A0001", "Right bundle branch block")):
        f = read_findings(read_record(folder / f"{key}.hea"))
        said = {s.name: s for s in f.statements}
        assert name in said, (key, [(s.name, round(s.confidence, 2)) for s in f.statements])
        assert said[name].confidence >= 0.5 and said[name].source in ("both", "criteria", "classifier")
        assert all(s.name in STATEMENTS for s in f.statements)
        assert f.to_dict()["statements"]
    flat = make_statements(ECGFindings(source="x", fs=500.0, start_s=0.0, duration_s=10.0, leads=LEADS),
                           np.zeros((12, 5000)))
    assert flat == ()


def test_training_fits_saves_and_loads(tmp_path, monkeypatch):
    from anyecg.train import statement_classifier
    from anyecg.train.statement_classifier import fit, fit_combination

    monkeypatch.setattr(statement_classifier, "C_GRID", (0.01, 0.1))  # two values keep the test short
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, N_FEATURES))
    y = np.stack([rng.random(100) < 0.3, x[:, -1] > 0.0], axis=1)
    x[:, :40] += 1.5 * y[:, :1]  # a shape that marks the first statement
    known = np.ones_like(y)
    known[:20, 1] = False  # a database that does not label the second statement
    names = ["Left bundle branch block", "Atrial fibrillation"]
    clf, report, oof = fit(x, y, known, names)
    assert report["Left bundle branch block"]["cv_auc"] > 0.8 and report["Atrial fibrillation"]["cv_auc"] > 0.8
    assert np.isnan(oof[:20, 1]).all() and not np.isnan(oof[20:, 1]).any()
    rules = [{"Atrial fibrillation": float(v)} for v in (x[:, -1] > 0.2)]
    combination = fit_combination(rules, oof, y, known, names)
    assert list(combination) == ["Atrial fibrillation"]
    path = tmp_path / "clf.safetensors"
    clf.save(path)
    back = load_classifier(path)
    assert back.names == tuple(names)
    p, q = clf.predict(x[0]), back.predict(x[0])
    assert p == pytest.approx(q, abs=1e-5)


def test_statement_check_tables():
    from anyecg.eval.statements import score_table

    truth = [{"AF"}, {"AF"}, set(), set()]
    scores = [{"classifier": {"Atrial fibrillation": p}, "criteria": {}, "combined": {"Atrial fibrillation": p}}
              for p in (0.9, 0.4, 0.4, 0.1)]
    table = score_table(truth, scores, ("AF",), lambda conf, cls: conf.get("Atrial fibrillation"))
    row = table["classes"]["AF"]
    assert row["positives"] == 2 and row["criteria"] is None
    assert row["classifier"]["auc"] == pytest.approx(0.875)  # one tie counts half
    assert row["classifier"]["f1"] == pytest.approx(2 / 3)  # 1 of 2 said at 0.5, no false AF
    assert table["macro_auc"]["classifier"] == {"auc": pytest.approx(0.875), "classes": 1}


def test_read_findings_on_a_record_whose_p_cannot_be_confirmed(shared_data):
    """CPSC2018 A0012 (PVCs): no dominant beat is clear of the previous T wave; the delineation once crashed here."""
    from anyecg.findings.read import read_findings
    from anyecg.io import read_record

    f = read_findings(read_record(shared_data / "cpsc2018-a0001-a0150" / "A0012.hea"))
    assert f.measurements.qrs_ms is not None and f.statements


def test_statements_that_af_rules_out_are_not_made():
    base = ECGFindings("x", 500.0, 0.0, 10.0, CANONICAL_LEADS, beat_times_s=np.arange(0.5, 10, 0.8),
                       beat_classes=("N", "S", "N", "V") * 3)
    said = tuple(Statement(n, 0.8, "classifier") for n in (
        "Atrial fibrillation", "First degree AV block", "Sinus tachycardia", "Premature atrial contraction",
        "Premature ventricular contraction", "T wave abnormality"))
    read = without_contradictions(replace(base, statements=said, measurements=Measurements(pr_ms=230.0)))
    assert {s.name for s in read.statements} == {"Atrial fibrillation", "Premature ventricular contraction",
                                                 "T wave abnormality"}
    assert "S" not in read.beat_classes and read.beat_classes.count("V") == 3
    # without AF: a first degree AV block needs a measured PR, and S beats stay
    sinus = tuple(s for s in said if s.name != "Atrial fibrillation")
    read = without_contradictions(replace(base, statements=sinus, measurements=Measurements(pr_ms=None)))
    assert "First degree AV block" not in {s.name for s in read.statements}
    assert "Sinus tachycardia" in {s.name for s in read.statements} and "S" in read.beat_classes


def test_a_normal_ecg_or_an_incomplete_block_is_not_said_beside_what_rules_it_out():
    def names(*said: str) -> set[str]:
        statements = tuple(Statement(n, 0.8, "classifier") for n in said)
        return {s.name for s in without_contradictions(replace(findings(), statements=statements)).statements}

    assert names("Normal ECG", "Sinus rhythm") == {"Normal ECG", "Sinus rhythm"}
    assert names("Normal ECG", "Sinus rhythm", "ST depression") == {"Sinus rhythm", "ST depression"}
    assert names("Right bundle branch block", "Incomplete right bundle branch block") == {"Right bundle branch block"}
    assert names("Incomplete right bundle branch block") == {"Incomplete right bundle branch block"}


def test_beats_of_an_ectopic_class_whose_statement_is_not_made_read_as_its_neighbours():
    base = findings(beat_classes=("N", "V", "N", "S", "N"))
    said = (Statement("Sinus rhythm", 0.9, "both"), Statement("Premature atrial contraction", 0.8, "both"))
    read = without_contradictions(replace(base, statements=said))  # the 12-lead read outweighed the one V beat
    assert read.beat_classes == ("N", "N", "N", "S", "N")
    said += (Statement("Premature ventricular contraction", 0.7, "both"),)
    assert without_contradictions(replace(base, statements=said)).beat_classes == base.beat_classes
