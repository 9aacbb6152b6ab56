"""Flutter waves: a saw-tooth of F waves between the QRS complexes reads as atrial flutter; sinus P and T waves and
AF's irregular rhythm do not."""

from __future__ import annotations

import numpy as np
import pytest

from anyecg.findings.flutter import flutter_waves
from anyecg.findings.read import read_findings
from anyecg.findings.summary import rhythm_family
from anyecg.io import ECGRecord
from ecg_synth import synthetic_ecg


def read(**kw):
    syn = synthetic_ecg(**kw)
    return read_findings(ECGRecord(syn.signal, syn.fs, syn.leads))


@pytest.mark.parametrize("flutter_bpm,rr_s,rr_sd_s", [(300, 0.8, 0.0), (300, 0.8, 0.1), (250, 0.72, 0.0)])
def test_flutter_waves_read_as_atrial_flutter_at_their_rate(flutter_bpm, rr_s, rr_sd_s):
    f = read(flutter_bpm=flutter_bpm, rr_s=rr_s, rr_sd_s=rr_sd_s)
    m = f.measurements
    assert m.flutter_wave_score > 0.6 and abs(m.flutter_rate_bpm - flutter_bpm) < 10
    assert f.statement("Atrial flutter").confidence > 0.9
    assert rhythm_family(f) == "flutter"  # also with a varying block (irregular RR without P waves)
    # the F wave before each QRS is no P wave: no sinus rhythm, no PR-based statement beside the flutter
    assert f.statement("Sinus rhythm") is None and f.statement("First degree AV block") is None


@pytest.mark.parametrize("kw", [dict(rr_s=0.8), dict(rr_s=0.4), dict(rr_s=0.8, rr_sd_s=0.15, p_wave=False)])
def test_sinus_and_af_have_no_flutter_waves(kw):
    f = read(**kw)
    assert f.measurements.flutter_wave_score < 0.3
    s = f.statement("Atrial flutter")
    assert s is None or s.confidence < 0.1
    assert rhythm_family(f) != "flutter"


def test_flutter_waves_need_three_of_the_four_leads_beats_a_rate_and_a_strip():
    syn = synthetic_ecg(flutter_bpm=300, rr_s=0.8)
    beats = np.round(syn.r_times_s * syn.fs).astype(np.int64)
    leads = list(syn.leads)
    assert flutter_waves(syn.signal, syn.fs, leads, beats) is not None
    two = [leads.index("II"), leads.index("V1")]  # a 2-lead Holter: tremor in V1 reads as flutter (MIT-BIH 101)
    assert flutter_waves(syn.signal[two], syn.fs, ["II", "V1"], beats) is None
    assert flutter_waves(syn.signal, syn.fs, leads, beats[:2]) is None
    assert flutter_waves(syn.signal[:, : int(1.5 * syn.fs)], syn.fs, leads, beats[:1]) is None
    assert flutter_waves(syn.signal[:, ::20], syn.fs / 20, leads, beats // 20) is None  # 25 Hz
    long = np.tile(syn.signal, 7)  # 70 s: past a strip, the rhythm episodes read flutter
    assert flutter_waves(long, syn.fs, leads, beats) is None


def test_a_real_flutter_record_reads_as_flutter(shared_data):
    """LUDB 35 (a training record): atrial flutter at 132 bpm, F waves at about 290/min."""
    from anyecg.io import read_record

    path = shared_data / "ludb" / "data" / "35.hea"
    if not path.exists():
        pytest.skip(f"LUDB not found at {path.parent}")
    f = read_findings(read_record(path, annotations=False))
    assert f.statement("Atrial flutter").confidence > 0.7 and rhythm_family(f) == "flutter"
    assert 250 < f.measurements.flutter_rate_bpm < 320
