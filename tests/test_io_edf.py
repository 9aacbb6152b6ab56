"""EDF / EDF+ / BDF reader on files written with edfio."""

from __future__ import annotations

import datetime as dt

import edfio
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anyecg.errors import ECGFileError, LeadError, SignalError, WindowError
from anyecg.io import Event, read_info, read_record


def write_edf(path, signals, fs=200, annotations=(), start=None):
    sigs = [edfio.EdfSignal(x, fs, label=label, physical_dimension=unit, physical_range=(-lim, lim))
            for label, x, unit, lim in signals]
    recording = edfio.Recording(startdate=start.date()) if start else None
    edf = edfio.Edf(sigs, annotations=[edfio.EdfAnnotation(*a) for a in annotations], recording=recording,
                    starttime=start.time() if start else None, patient=edfio.Patient(sex="F"))
    edf.write(path)
    return path


@pytest.fixture
def holter(tmp_path):
    rng = np.random.default_rng(1)
    ii, v1, resp = rng.uniform(-4, 4, 2000), rng.uniform(-4, 4, 2000), rng.uniform(-1, 1, 2000)
    path = write_edf(tmp_path / "holter.edf",
                     [("ECG II", ii * 1000, "uV", 5000), ("V1", v1, "mV", 5), ("Resp", resp, "", 1)],
                     annotations=[(1.5, 2.0, "AF"), (7.0, None, "button")],
                     start=dt.datetime(2024, 3, 1, 8, 30, 0))
    return path, ii, v1


def test_edf_plus_round_trip(holter):
    path, ii, v1 = holter
    rec = read_record(path, drop_unknown=True)
    assert rec.format == "edf" and rec.leads == ("II", "V1") and rec.fs == 200.0
    assert np.allclose(rec.signal[0], ii, atol=5000 / 32767) and np.allclose(rec.signal[1], v1, atol=5 / 32767)
    assert rec.events == (Event(1.5, 3.5, "AF"), Event(7.0, 7.0, "button"))
    assert rec.start_time == dt.datetime(2024, 3, 1, 8, 30, 0)
    assert rec.metadata["dropped_leads"] == ["Resp"] and rec.metadata["units"] == ["uV", "mV"]
    assert rec.metadata["sex"] == "F"


def test_edf_window_and_info(holter):
    path, ii, _ = holter
    rec = read_record(path, lead_map="Resp=-", start_s=2.5, end_s=4.0)
    assert rec.offset == 500 and rec.n_samples == 300
    assert np.allclose(rec.signal[0], ii[500:800], atol=0.2)
    info = read_info(path, lead_map={"Resp": "-"})
    assert (info.n_samples, info.duration_s, info.raw_leads) == (2000, 10.0, ("ECG II", "V1"))
    with pytest.raises(WindowError):
        read_record(path, drop_unknown=True, start_s=9, end_s=12)


def test_edf_unknown_channel_and_rates(tmp_path, holter):
    with pytest.raises(LeadError, match="Resp"):
        read_record(holter[0])
    path = tmp_path / "rates.edf"
    edfio.Edf([edfio.EdfSignal(np.zeros(2000), 200, label="II", physical_range=(-1, 1)),
               edfio.EdfSignal(np.zeros(1000), 100, label="V1", physical_range=(-1, 1))]).write(path)
    with pytest.raises(SignalError, match="different sampling rates"):
        read_record(path)
    assert read_record(path, lead_map="V1=-").leads == ("II",)


def test_bdf(tmp_path):
    x = np.random.default_rng(2).uniform(-2, 2, 2560)
    path = tmp_path / "a.bdf"
    edfio.Bdf([edfio.BdfSignal(x, 256, label="Lead II", physical_dimension="mV",
                               physical_range=(-2.5, 2.5))]).write(path)
    rec = read_record(path)
    assert rec.format == "bdf" and rec.leads == ("II",) and np.allclose(rec.signal[0], x, atol=1e-5)


def test_truncated_edf(tmp_path, holter):
    data = holter[0].read_bytes()
    bad = tmp_path / "cut.edf"
    bad.write_bytes(data[: len(data) - 3000])
    with pytest.raises(ECGFileError, match=r"cut\.edf: truncated"):
        read_record(bad, drop_unknown=True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seconds=st.integers(1, 20), fs=st.sampled_from([100, 128, 250, 500]), seed=st.integers(0, 999),
       unit=st.sampled_from(["mV", "uV", "V"]))
def test_edf_round_trip_property(tmp_path, seconds, fs, seed, unit):
    factor = {"mV": 1.0, "uV": 1000.0, "V": 1e-3}[unit]
    x = np.random.default_rng(seed).uniform(-3, 3, seconds * fs)
    path = write_edf(tmp_path / f"p{seed}.edf", [("II", x * factor, unit, 3 * factor)], fs=fs)
    rec = read_record(path)
    assert rec.n_samples == seconds * fs and rec.fs == fs
    assert np.allclose(rec.signal[0], x, atol=3 / 32767 + 1e-5)
