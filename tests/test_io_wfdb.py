"""WFDB reader: generated records (every path the real data takes) and the real databases in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wfdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anyecg.errors import ECGFileError, LeadError, SignalError, WindowError
from anyecg.io import BeatAnnotations, ECGRecord, Event, read_info, read_record

GAIN = 200.0


def write_wfdb(folder: Path, name: str, digital: np.ndarray, *, fs: float = 250, names=("II", "V1"),
               fmt: str = "16", units: str = "mV", comments=()) -> Path:
    """Write digital samples [n, leads] with gain 200/mV; return the record path without extension."""
    n_sig = digital.shape[1]
    wfdb.wrsamp(name, fs=fs, units=[units] * n_sig, sig_name=list(names), d_signal=digital.astype(np.int32),
                fmt=[fmt] * n_sig, adc_gain=[GAIN] * n_sig, baseline=[0] * n_sig, comments=list(comments),
                write_dir=str(folder))
    return folder / name


def expected(digital: np.ndarray, leads, fs=250.0, scale=1.0, **kw) -> ECGRecord:
    signal = (digital.T.astype(np.float32) / np.float32(GAIN)) * np.float32(scale)
    return ECGRecord(signal=signal, fs=fs, leads=tuple(leads), **kw)


def digital_signal(n=1000, leads=2, seed=0, lim=1000) -> np.ndarray:
    return np.random.default_rng(seed).integers(-lim, lim, size=(n, leads))


@pytest.mark.parametrize("fmt", ["16", "212", "80", "24", "32", "516"])
def test_storage_formats_round_trip(tmp_path, fmt):
    lim = 100 if fmt == "80" else 1000
    digital = digital_signal(lim=lim)
    path = write_wfdb(tmp_path, "rec", digital, fmt=fmt, names=("MLII", "V1"))
    rec = read_record(path)
    assert rec == expected(digital, ("II", "V1"))
    assert rec.format == "wfdb" and rec.signal.dtype == np.float32
    assert rec.metadata["raw_leads"] == ["MLII", "V1"]


def test_units_comments_and_extensions(tmp_path):
    digital = digital_signal()
    path = write_wfdb(tmp_path, "uv", digital, units="uV",
                      comments=["Age: 61", "Sex: Female", "Dx: 164889003,59118001"])
    for p in (path, path.with_suffix(".hea"), path.with_suffix(".dat")):
        rec = read_record(p)
        assert rec == expected(digital, ("II", "V1"), scale=1e-3, diagnoses=("164889003", "59118001"))
    assert rec.metadata["age"] == 61 and rec.metadata["sex"] == "F" and rec.metadata["units"] == ["uV", "uV"]


def test_annotations_events_and_window(tmp_path):
    digital = digital_signal(n=2500)
    path = write_wfdb(tmp_path, "ann", digital)
    samples = np.array([5, 100, 300, 500, 700, 900, 1000, 1200, 1400, 2000])
    symbols = ["+", "N", "V", "+", "N", "s", "N", "s", "+", "N"]
    aux = ["(N", "", "", "(AFIB", "", "(ST0+", "", "ST0+)", "(AFIB", ""]
    wfdb.wrann("ann", "atr", samples, symbol=symbols, aux_note=aux, write_dir=str(tmp_path))
    wfdb.wrann("ann", "qrs", samples[:3], symbol=["N"] * 3, write_dir=str(tmp_path))
    rec = read_record(path, start_s=4.0, end_s=6.0)
    assert rec.offset == 1000 and rec.n_samples == 500
    assert np.array_equal(rec.signal, expected(digital[1000:1500], ("II", "V1")).signal)
    assert rec.beats == BeatAnnotations(samples, tuple(symbols), tuple(aux))  # whole record, not filtered
    assert rec.metadata["annotator"] == "atr"
    assert rec.events == (Event(0.02, 2.0, "(N"), Event(2.0, 10.0, "(AFIB"), Event(3.6, 4.8, "(ST0+"))
    qrs = read_record(path, annotations="qrs")
    assert qrs.beats.symbol == ("N",) * 3 and qrs.events == ()
    assert read_record(path, annotations=False).beats is None
    with pytest.raises(ECGFileError, match=r"ann\.ari"):
        read_record(path, annotations="ari")


def test_qrs_used_when_no_atr(tmp_path):
    path = write_wfdb(tmp_path, "q", digital_signal())
    wfdb.wrann("q", "qrs", np.array([10, 20]), symbol=["N", "V"], write_dir=str(tmp_path))
    rec = read_record(path)
    assert rec.metadata["annotator"] == "qrs" and rec.beats.symbol == ("N", "V")


def test_multi_segment(tmp_path):
    digital = digital_signal(n=1000)
    write_wfdb(tmp_path, "seg1", digital[:600])
    write_wfdb(tmp_path, "seg2", digital[600:])
    (tmp_path / "multi.hea").write_text("multi/2 2 250 1000\nseg1 600\nseg2 400\n")
    assert read_record(tmp_path / "multi") == expected(digital, ("II", "V1"))
    part = read_record(tmp_path / "multi.hea", start_s=2.0, end_s=3.0)
    assert part.offset == 500 and part == expected(digital[500:750], ("II", "V1"))
    assert read_info(tmp_path / "multi").n_samples == 1000


def test_info_without_decoding(tmp_path):
    path = write_wfdb(tmp_path, "info", digital_signal(), names=("ECG1", "Resp"))
    info = read_info(path, drop_unknown=True)
    assert (info.format, info.fs, info.n_samples, info.duration_s) == ("wfdb", 250.0, 1000, 4.0)
    assert info.leads == ("I",) and info.raw_leads == ("ECG1",) and info.dropped_leads == ("Resp",)


def test_lead_errors_and_drop_unknown(tmp_path):
    path = write_wfdb(tmp_path, "leads", digital_signal(leads=3), names=("II", "Resp", "V1"))
    with pytest.raises(LeadError, match="Resp"):
        read_record(path)
    rec = read_record(path, drop_unknown=True)
    assert rec.leads == ("II", "V1") and rec.metadata["dropped_leads"] == ["Resp"]
    assert read_record(path, lead_map="Resp=V2").leads == ("II", "V2", "V1")
    dup = write_wfdb(tmp_path, "dup", digital_signal(), names=("MLII", "II"))
    rec = read_record(dup)
    assert rec.leads == ("II",) and rec.metadata["raw_leads"] == ["MLII"] and "kept 'MLII'" in rec.metadata["notes"][0]


def test_missing_and_truncated_dat(tmp_path):
    path = write_wfdb(tmp_path, "t", digital_signal())
    dat = path.with_suffix(".dat")
    data = dat.read_bytes()
    dat.write_bytes(data[: len(data) // 2])
    with pytest.raises(ECGFileError, match="truncated"):
        read_record(path)
    dat.unlink()
    with pytest.raises(ECGFileError, match=r"t\.dat.*missing"):
        read_record(path)
    with pytest.raises(ECGFileError, match="no such file"):
        read_record(tmp_path / "nothing")


def test_header_length_lies(tmp_path):
    path = write_wfdb(tmp_path, "lie", digital_signal(n=1000))
    hea = path.with_suffix(".hea")
    hea.write_text(hea.read_text().replace("lie 2 250 1000", "lie 2 250 5000"))
    with pytest.raises(ECGFileError, match="header says 5000 samples"):
        read_record(path)


def test_zero_length_and_bad_fs(tmp_path):
    path = write_wfdb(tmp_path, "z", digital_signal(n=10))
    hea = path.with_suffix(".hea")
    text = hea.read_text()
    hea.write_text(text.replace("z 2 250 10", "z 2 250 0"))
    with pytest.raises(SignalError, match="no samples"):
        read_record(path)
    hea.write_text(text.replace("z 2 250 10", "z 2 0 10"))
    with pytest.raises(SignalError, match="> 0 Hz"):
        read_record(path)
    hea.write_text(text)
    with pytest.raises(SignalError, match="> 0 Hz"):
        read_record(path, fs=0)
    with pytest.raises(SignalError, match="never resample"):
        read_record(path, fs=500)


def test_all_nan_lead_reads(tmp_path):
    digital = digital_signal()
    digital[:, 1] = -32768  # WFDB 'invalid sample' for format 16
    rec = read_record(write_wfdb(tmp_path, "nan", digital))
    assert np.isnan(rec.signal[1]).all() and np.isfinite(rec.signal[0]).all()


def test_window_outside_record(tmp_path):
    path = write_wfdb(tmp_path, "w", digital_signal())  # 4 s
    for start, end in [(5, 6), (-1, 2), (3, 2), (1, 9)]:
        with pytest.raises(WindowError, match="outside the record"):
            read_record(path, start_s=start, end_s=end)
    assert read_record(path, start_s=3.0).n_samples == 250


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 400), leads=st.integers(1, 12), fs=st.sampled_from([100, 250, 360, 500, 1000]),
       fmt=st.sampled_from(["16", "212", "24"]), seed=st.integers(0, 2**16))
def test_round_trip_property(tmp_path, n, leads, fs, fmt, seed):
    from anyecg.leads import CANONICAL_LEADS
    digital = digital_signal(n=n, leads=leads, seed=seed)
    names = CANONICAL_LEADS[:leads]
    path = write_wfdb(tmp_path, f"p{seed}_{fmt}", digital, fs=fs, names=names, fmt=fmt)
    assert read_record(path) == expected(digital, names, fs=float(fs))


# ---- real data -------------------------------------------------------------------------------------------


def test_mitdb_all_records(shared_data):
    records = (shared_data / "mitdb" / "RECORDS").read_text().split()
    assert len(records) == 48
    n_beats = 0
    for name in records:
        rec = read_record(shared_data / "mitdb" / name)
        assert rec.signal.shape == (2, 650000) and rec.fs == 360.0
        assert rec.beats is not None and rec.events and np.isfinite(rec.signal).all()
        n_beats += len(rec.beats)
    assert n_beats == 112647


def test_mitdb_window_matches_wfdb(shared_data):
    name = str(shared_data / "mitdb" / "201")
    rec = read_record(name, start_s=600, end_s=610)
    ref = wfdb.rdrecord(name, sampfrom=216000, sampto=219600)
    assert rec.offset == 216000 and np.allclose(rec.signal, ref.p_signal.T, atol=1e-6)
    assert rec.leads == ("II", "V1") and len(rec.beats) == len(wfdb.rdann(name, "atr").sample)
    assert {e.label for e in rec.events} >= {"(AFIB", "(N"}


@pytest.mark.parametrize("folder", ["cpsc2018-a0001-a0150", "cinc2021-sample"])
def test_cinc_style_records(shared_data, folder):
    heads = sorted((shared_data / folder).glob("*.hea"))
    assert len(heads) in (150, 50)
    for hea in heads:
        rec = read_record(hea.with_suffix(".mat"))
        assert rec.leads[:2] == ("I", "II") and len(rec.leads) == 12 and rec.fs == 500.0
        assert rec.diagnoses and ("age" in rec.metadata or "sex" in rec.metadata)
    a1 = read_record(shared_data / "cpsc2018-a0001-a0150" / "A0001")
    ref = wfdb.rdrecord(str(shared_data / "cpsc2018-a0001-a0150" / "A0001"))
    assert a1.diagnoses == ("RBBB",) and a1.metadata["sex"] == "M" and a1.metadata["age"] == 74
    assert np.allclose(a1.signal, ref.p_signal.T, atol=1e-6)


def test_long_reads_are_chunked(tmp_path, monkeypatch):
    from anyecg.io import wfdb_reader
    monkeypatch.setattr(wfdb_reader, "_CHUNK", 300)
    digital = digital_signal(n=1000)
    rec = read_record(write_wfdb(tmp_path, "c", digital, fmt="212", units="uV"), start_s=0.5)
    assert rec.offset == 125 and rec == expected(digital[125:], ("II", "V1"), scale=1e-3)
