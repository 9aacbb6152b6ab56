"""CSV/TSV and NumPy readers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anyecg.errors import ECGFileError, LeadError, SignalError, UnsupportedFormatError, WindowError
from anyecg.io import ECGRecord, read_info, read_record
from anyecg.leads import CANONICAL_LEADS


def write_csv(path, signal: np.ndarray, names, *, fs=None, time_ms=False, sep=","):
    """signal [leads, samples]; with fs, a leading time column (s or ms)."""
    cols, header = list(signal), list(names)
    if fs:
        t = np.arange(signal.shape[1]) / fs * (1000 if time_ms else 1)
        cols, header = [t, *cols], ["time_ms" if time_ms else "time", *header]
    lines = [sep.join(header)] + [sep.join(repr(float(v)) for v in row) for row in zip(*cols, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_with_time_column(tmp_path):
    x = np.random.default_rng(0).uniform(-2, 2, (2, 1000)).astype(np.float32)
    rec = read_record(write_csv(tmp_path / "a.csv", x, ["MLII", "V5"], fs=360))
    assert rec == ECGRecord(signal=x, fs=360.0, leads=("II", "V5")) and rec.format == "csv"
    ms = read_record(write_csv(tmp_path / "b.csv", x, ["ii", "v5"], fs=250, time_ms=True))
    assert ms.fs == 250.0 and ms.leads == ("II", "V5")
    tsv = read_record(write_csv(tmp_path / "c.tsv", x, ["Lead I", "Lead II"], sep="\t"), fs=500,
                      start_s=1.0, end_s=1.5)
    assert tsv.offset == 500 and np.array_equal(tsv.signal, x[:, 500:750])
    assert read_info(tmp_path / "c.tsv", fs=500).n_samples == 1000


def test_csv_units_in_header_and_txt_sniffing(tmp_path):
    x = np.arange(20, dtype=np.float32).reshape(2, 10)
    rec = read_record(write_csv(tmp_path / "u.txt", x, ["II (uV)", "V1 [mV]"], sep="\t"), fs=100)
    assert np.allclose(rec.signal, x * np.array([[1e-3], [1.0]], dtype=np.float32))
    assert rec.metadata["units"] == ["uV", "mV"]


def test_csv_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time,II,V1\n0,0.1,0.2\n0.004,0.1,abc\n")
    with pytest.raises(ECGFileError, match=r"line 3, column 'V1': 'abc' is not a number"):
        read_record(bad)
    (tmp_path / "nofs.csv").write_text("II,V1\n1,2\n3,4\n")
    with pytest.raises(SignalError, match="--fs"):
        read_record(tmp_path / "nofs.csv")
    (tmp_path / "empty.csv").write_text("II,V1\n")
    with pytest.raises(SignalError, match="no samples"):
        read_record(tmp_path / "empty.csv", fs=100)
    (tmp_path / "back.csv").write_text("time,II\n0,1\n0,2\n")
    with pytest.raises(SignalError, match="does not increase"):
        read_record(tmp_path / "back.csv")
    (tmp_path / "lead.csv").write_text("II,Pleth\n1,2\n")
    with pytest.raises(LeadError, match="Pleth"):
        read_record(tmp_path / "lead.csv", fs=100)
    (tmp_path / "dup.csv").write_text("II,MLII\n1,2\n")
    dup = read_record(tmp_path / "dup.csv", fs=100)  # two channels for one slot: the first is kept, and said
    assert dup.leads == ("II",) and dup.metadata["dropped_leads"] == ["MLII"]
    assert "kept 'II', left out 'MLII'" in dup.metadata["notes"][0]
    (tmp_path / "prose.csv").write_text("Dear doctor,\nplease find the ECG attached.\n")
    with pytest.raises(UnsupportedFormatError, match=r"prose\.csv"):
        read_record(tmp_path / "prose.csv")


def test_npy_orientation_and_window(tmp_path):
    x = np.random.default_rng(1).standard_normal((12, 3000)).astype(np.float32)
    np.save(tmp_path / "rows.npy", x)
    np.save(tmp_path / "cols.npy", x.T.astype(np.float64))
    for name in ("rows.npy", "cols.npy"):
        rec = read_record(tmp_path / name, fs=500)
        assert rec == ECGRecord(signal=x, fs=500.0, leads=CANONICAL_LEADS) and rec.format == "npy"
    part = read_record(tmp_path / "cols.npy", fs=500, start_s=2, end_s=4)
    assert part.offset == 1000 and np.array_equal(part.signal, x[:, 1000:2000])
    assert read_info(tmp_path / "rows.npy", fs=500).duration_s == 6.0
    np.save(tmp_path / "two.npy", x[:2])
    with pytest.raises(LeadError, match="ch1"):
        read_record(tmp_path / "two.npy", fs=500)
    assert read_record(tmp_path / "two.npy", fs=500, lead_map="ch1=II,ch2=V1").leads == ("II", "V1")
    with pytest.raises(WindowError):
        read_record(tmp_path / "rows.npy", fs=500, start_s=7)


def test_npy_errors(tmp_path):
    np.save(tmp_path / "one.npy", np.zeros(100))
    np.save(tmp_path / "three.npy", np.zeros((2, 12, 100)))
    np.save(tmp_path / "ok.npy", np.zeros((12, 100)))
    for name in ("one.npy", "three.npy"):
        with pytest.raises(SignalError, match=r"shape .* expected 2-D"):
            read_record(tmp_path / name, fs=100)
    with pytest.raises(SignalError, match="no sampling rate"):
        read_record(tmp_path / "ok.npy")
    with pytest.raises(SignalError, match="> 0 Hz"):
        read_record(tmp_path / "ok.npy", fs=-1)
    np.save(tmp_path / "wide.npy", np.zeros((20, 100)))
    with pytest.raises(SignalError, match="neither side"):
        read_record(tmp_path / "wide.npy", fs=100)


def test_npz(tmp_path):
    x = np.random.default_rng(2).standard_normal((2, 500)).astype(np.float32)
    np.savez(tmp_path / "a.npz", signal=x, fs=250.0, leads=np.array(["MLII", "V1"]))
    assert read_record(tmp_path / "a.npz") == ECGRecord(signal=x, fs=250.0, leads=("II", "V1"))
    np.savez(tmp_path / "nofs.npz", signal=x, leads=np.array(["II", "V1"]))
    assert read_record(tmp_path / "nofs.npz", fs=100).fs == 100.0
    np.savez(tmp_path / "zero.npz", signal=x, fs=0.0, leads=np.array(["II", "V1"]))
    with pytest.raises(SignalError, match="> 0 Hz"):
        read_record(tmp_path / "zero.npz")
    np.savez(tmp_path / "other.npz", data=x)
    with pytest.raises(ECGFileError, match="'signal'"):
        read_record(tmp_path / "other.npz")


def test_all_nan_lead_reads(tmp_path):
    x = np.ones((2, 100), dtype=np.float32)
    x[1] = np.nan
    rec = read_record(np.save(tmp_path / "n.npy", x) or tmp_path / "n.npy", fs=100, lead_map="ch1=II,ch2=V1")
    assert np.isnan(rec.signal[1]).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(leads=st.integers(1, 12), n=st.integers(2, 300), fs=st.sampled_from([100.0, 250.0, 500.0]),
       seed=st.integers(0, 999), fmt=st.sampled_from(["csv", "tsv", "npz", "npy"]))
def test_round_trip_property(tmp_path, leads, n, fs, seed, fmt):
    x = np.random.default_rng(seed).uniform(-5, 5, (leads, n)).astype(np.float32)
    names = CANONICAL_LEADS[:leads]
    path = tmp_path / f"p{seed}.{fmt}"
    if fmt == "npz":
        np.savez(path, signal=x, fs=fs, leads=np.array(names))
    elif fmt == "npy":
        np.save(path, x.T if n > 12 else x)
    else:
        write_csv(path, x, names, fs=fs, sep="\t" if fmt == "tsv" else ",")
    lead_map = {f"ch{i + 1}": name for i, name in enumerate(names)} if fmt == "npy" and leads != 12 else None
    rec = read_record(path, fs=fs if fmt == "npy" else None, lead_map=lead_map)
    assert rec == ECGRecord(signal=x, fs=fs, leads=names)
