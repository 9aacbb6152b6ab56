"""Files that used to crash a reader, read silently wrong, or fail although they are ordinary (issue 16).

Every case writes real bytes (with wfdb, edfio, numpy or by hand) and reads them through the public API.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import zipfile

import edfio
import numpy as np
import pytest

from anyecg.cli import main
from anyecg.errors import (
    AnyECGError,
    ECGFileError,
    LeadError,
    MissingRateError,
    RecordTooLargeError,
    SignalError,
    WindowError,
)
from anyecg.io import read_info, read_record
from anyecg.io.cli import describe
from anyecg.leads import CANONICAL_LEADS
from test_io_wfdb import digital_signal, write_wfdb
from test_io_xml_mat import hl7_xml, muse_xml


def _edit_header(path, old: str, new: str) -> None:
    hea = path.with_suffix(".hea")
    text = hea.read_text()
    assert old in text
    hea.write_text(text.replace(old, new, 1))


# ---- crash signatures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["inf", "abc", "-250", "0"])
def test_wfdb_rate_not_a_positive_number(tmp_path, rate):
    path = write_wfdb(tmp_path, "r", digital_signal(n=100))
    _edit_header(path, "r 2 250 100", f"r 2 {rate} 100")
    for call in (read_record, read_info, describe):
        with pytest.raises(SignalError, match=re.escape(repr(rate))):
            call(path)


def test_zero_samples_is_a_signal_error_for_info(tmp_path):
    np.save(tmp_path / "empty.npy", np.zeros((12, 0), dtype=np.float32))
    with pytest.raises(SignalError, match="no samples"):
        describe(tmp_path / "empty.npy", fs=500)
    path = write_wfdb(tmp_path, "z", digital_signal(n=100))
    _edit_header(path, "z 2 250 100", "z 2 250 0")
    with pytest.raises(SignalError, match="no samples"):
        describe(path)


def test_signal_file_name_too_long(tmp_path):
    path = write_wfdb(tmp_path, "long", digital_signal(n=100))
    _edit_header(path, "long.dat", "x" * 300 + ".dat")
    with pytest.raises(ECGFileError, match="cannot open a signal file"):
        read_record(path)


def _edf_with_annotation_bytes(path, replace: bytes, by: bytes):
    sig = edfio.EdfSignal(np.zeros(400), 200, label="II", physical_range=(-5, 5))
    edfio.Edf([sig], annotations=[edfio.EdfAnnotation(0.5, None, "ABCD")]).write(path)
    data = path.read_bytes()
    assert replace in data
    path.write_bytes(data.replace(replace, by))
    return path


def test_edf_annotations_that_do_not_decode(tmp_path):
    bad_utf8 = _edf_with_annotation_bytes(tmp_path / "a.edf", b"ABCD", b"\xff\xfe\xfd\xfc")
    rec = read_record(bad_utf8)
    assert rec.leads == ("II",) and rec.events == () and "annotations ignored" in rec.metadata["notes"][0]
    no_onset = _edf_with_annotation_bytes(tmp_path / "b.edf", b"+0\x14\x14", b"x0\x14\x14")  # no valid TAL
    assert "annotations ignored" in read_record(no_onset).metadata["notes"][0]


def test_edf_record_duration_huge_or_zero(tmp_path):
    sig = edfio.EdfSignal(np.zeros(400), 200, label="II", physical_range=(-5, 5))
    edfio.Edf([sig]).write(tmp_path / "d.edf")
    data = bytearray((tmp_path / "d.edf").read_bytes())
    for duration in (b"1e308   ", b"0       "):
        data[244:252] = duration
        (tmp_path / "d.edf").write_bytes(bytes(data))
        with pytest.raises(AnyECGError):
            read_record(tmp_path / "d.edf")


def test_edf_without_signals(tmp_path):
    sig = edfio.EdfSignal(np.zeros(400), 200, label="II", physical_range=(-5, 5))
    edfio.Edf([sig]).write(tmp_path / "n.edf")
    data = bytearray((tmp_path / "n.edf").read_bytes())
    data[252:256] = b"0   "
    (tmp_path / "n.edf").write_bytes(bytes(data))
    with pytest.raises(ECGFileError, match="declares no signals"):
        read_info(tmp_path / "n.edf")


def test_npz_lead_names_not_text(tmp_path):
    leads = np.frombuffer(np.array([0xD800, 0x110000], dtype="<u4").tobytes(), dtype="<U1")
    np.savez(tmp_path / "l.npz", signal=np.zeros((2, 100), np.float32), fs=100.0, leads=leads)
    with pytest.raises(ECGFileError, match="not text"):
        read_record(tmp_path / "l.npz")


def test_muse_leads_of_different_lengths(tmp_path):
    (tmp_path / "m.xml").write_text(muse_xml({"I": np.zeros(500), "II": np.zeros(400)}))
    with pytest.raises(SignalError, match="different lengths"):
        read_record(tmp_path / "m.xml")


def test_xml_numbers_that_are_not_numbers(tmp_path):
    (tmp_path / "m.xml").write_text(muse_xml({"I": np.zeros(500)}).replace("<SampleBase>500", "<SampleBase>fast"))
    with pytest.raises(ECGFileError, match=r"SampleBase.*'fast' is not a number"):
        read_record(tmp_path / "m.xml")
    (tmp_path / "h.xml").write_text(hl7_xml({"II": np.zeros(100)}).replace('scale value="2.5"', 'scale value="x"'))
    with pytest.raises(ECGFileError, match=r"scale.*'x' is not a number"):
        read_record(tmp_path / "h.xml")


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_window_not_a_number_for_every_format(tmp_path, bad):
    np.save(tmp_path / "x.npy", np.zeros((12, 1000), np.float32))
    (tmp_path / "x.xml").write_text(muse_xml({"I": np.zeros(500), "II": np.zeros(500)}))
    for path, kw in ((write_wfdb(tmp_path, "w", digital_signal()), {}), (tmp_path / "x.npy", {"fs": 100}),
                     (tmp_path / "x.xml", {})):
        for window in ({"start_s": bad}, {"end_s": bad}):
            with pytest.raises(WindowError, match="finite"):
                read_record(path, **kw, **window)


# ---- silent wrong reads -----------------------------------------------------------------------------------


def test_inf_samples_read_as_nan_and_said(tmp_path):
    x = np.ones((12, 100), np.float32)
    x[3, 10:13] = np.inf
    np.save(tmp_path / "inf.npy", x)
    rec = read_record(tmp_path / "inf.npy", fs=100)
    assert np.isnan(rec.signal[3, 10:13]).all() and "3 infinite sample value(s)" in rec.metadata["notes"][0]
    d = describe(tmp_path / "inf.npy", fs=100)
    assert d["leads"][3]["nan_samples"] == 3 and np.isfinite(d["leads"][3]["max_mv"])


def test_garbage_annotation_file_is_ignored_with_a_note(tmp_path):
    path = write_wfdb(tmp_path, "g", digital_signal())
    path.with_suffix(".atr").write_bytes(np.random.default_rng(0).bytes(2000))
    rec = read_record(path)
    assert rec.beats is None and "g.atr ignored" in rec.metadata["notes"][0]
    with pytest.raises(ECGFileError, match="not WFDB annotations"):
        read_record(path, annotations="atr")


def test_wfdb_header_messages(tmp_path):
    path = write_wfdb(tmp_path, "h", digital_signal())
    text = path.with_suffix(".hea").read_text()
    path.with_suffix(".hea").write_text(text.replace("h 2 250", "h 3 250"))
    with pytest.raises(ECGFileError, match="declares 3 signals but has 2 signal line"):
        read_info(path)
    path.with_suffix(".hea").write_text(text.replace("h 2 250", "h 1\u00b2 250"))  # found by the long fuzz run
    with pytest.raises(ECGFileError, match="record line"):
        read_info(path)
    path.with_suffix(".hea").write_text(text.replace("h.dat 16", "h.dat 999"))
    with pytest.raises(ECGFileError, match="storage format '999' is not a WFDB format"):
        read_record(path)


# ---- ordinary files that should read ---------------------------------------------------------------------


def test_fifteen_lead_record_keeps_twelve_and_lists_frank_leads(tmp_path):
    names = [*("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6"), "vx", "vy", "vz"]
    path = write_wfdb(tmp_path, "s0010_re", digital_signal(n=500, leads=15), fs=1000, names=names)
    rec = read_record(path)
    assert rec.leads == CANONICAL_LEADS and rec.metadata["dropped_leads"] == ["vx", "vy", "vz"]
    assert "Frank leads vx, vy, vz ignored" in rec.metadata["notes"][0]
    assert read_info(path).dropped_leads == ("vx", "vy", "vz")


def test_csv_with_semicolons_and_decimal_commas(tmp_path):
    (tmp_path / "eu.csv").write_text("time;II;V1\n0,000;0,5;-0,25\n0,004;0,75;1,5\n0,008;1;2\n")
    rec = read_record(tmp_path / "eu.csv")
    assert rec.fs == 250.0 and rec.leads == ("II", "V1")
    assert np.allclose(rec.signal, [[0.5, 0.75, 1.0], [-0.25, 1.5, 2.0]])
    (tmp_path / "bad.csv").write_text("II;V1\n0,5;x\n")
    with pytest.raises(ECGFileError, match="line 2, column 'V1': 'x' is not a number"):
        read_record(tmp_path / "bad.csv", fs=100)


def test_info_without_a_rate_describes_what_it_can(tmp_path, capsys):
    np.save(tmp_path / "a.npy", np.full((12, 300), 0.5, np.float32))
    (tmp_path / "one.csv").write_text("II\n" + "\n".join(str(v) for v in range(50)) + "\n")
    with pytest.raises(MissingRateError):
        read_info(tmp_path / "a.npy")
    assert main(["info", str(tmp_path / "a.npy"), str(tmp_path / "one.csv")]) == 0
    out = capsys.readouterr().out
    assert "a.npy: npy (float32), sampling rate unknown, 300 samples" in out
    assert "one.csv: csv, sampling rate unknown, 50 samples" in out
    assert out.count("note: sampling rate unknown: give --fs") == 2 and "+0.500 .. +0.500 mV" in out


def test_info_shows_header_comments(tmp_path, capsys):
    path = write_wfdb(tmp_path, "c", digital_signal(),
                      comments=["age: 81", "sex: female", "diagnosis: Myocardial infarction", "Healthy control: no"])
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "# diagnosis: Myocardial infarction" in out and "# Healthy control: no" in out
    assert main(["info", "--json", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["comments"][2] == "diagnosis: Myocardial infarction"


def test_generic_ecg_channel_is_assumed_and_said(tmp_path):
    path = write_wfdb(tmp_path, "e", digital_signal(), names=("ECG1", "ECG2"))
    rec = read_record(path)
    assert rec.leads == ("II", "V1")
    assert rec.metadata["notes"] == ["channel 'ECG1' assumed to be lead II (its name does not say which lead)",
                                     "channel 'ECG2' assumed to be lead V1 (its name does not say which lead)"]


def test_unmapped_channel_message_and_drop(tmp_path):
    path = write_wfdb(tmp_path, "art", digital_signal(leads=3), names=("II", "ART", "ch3"))
    with pytest.raises(LeadError) as err:
        read_record(path)
    message = str(err.value)
    assert "'ART=II'" not in message and "--drop-unknown" in message and "'ART=-'" in message
    assert "'ch3=II'" in message  # a channel named like an ECG channel gets the mapping hint
    assert read_record(path, lead_map="*=-").leads == ("II",)
    with pytest.raises(LeadError, match=r"only '\*=-'"):
        read_record(path, lead_map="*=II")


# ---- bounds before allocation -----------------------------------------------------------------------------


def _npz_with_header(path, shape, zero_mb: int) -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("signal.npy", "w", force_zip64=True) as f:
            f.write(header.getvalue())
            zeros = bytes(1 << 20)
            for _ in range(zero_mb):
                f.write(zeros)
        zf.writestr("fs.npy", _npy_bytes(np.array(500.0)))


def test_npz_bombs_refused_from_headers(tmp_path):
    """Refused before numpy allocates: a header promising 12 x 20,000,000 float32 (960 MB) over 16 MB of
    zeros, and an honest header over 200 MB of zeros (a 1000:1 zip bomb)."""
    _npz_with_header(tmp_path / "lie.npz", (12, 20_000_000), 16)
    _npz_with_header(tmp_path / "bomb.npz", (12, 200 * (1 << 20) // 48), 200)
    assert (tmp_path / "bomb.npz").stat().st_size < 1 << 20
    for call in (read_info, read_record):
        with pytest.raises(ECGFileError, match="holds only"):
            call(tmp_path / "lie.npz")
        with pytest.raises(ECGFileError, match="zip bomb"):
            call(tmp_path / "bomb.npz")
    np.savez(tmp_path / "honest.npz", signal=np.zeros((12, 10_000), np.float32), fs=500.0)
    assert read_info(tmp_path / "honest.npz").n_samples == 10_000
    with pytest.raises(RecordTooLargeError, match="holds 1 x 120000 samples"):
        read_info(tmp_path / "honest.npz", max_values=100_000)


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_header_sample_counts_bounded(tmp_path):
    path = write_wfdb(tmp_path, "b", digital_signal(n=1000))
    with pytest.raises(RecordTooLargeError):
        read_info(path, max_values=1999)
    assert read_info(path, max_values=2000).n_samples == 1000
    sig = edfio.EdfSignal(np.zeros(400), 200, label="II", physical_range=(-5, 5))
    edfio.Edf([sig]).write(tmp_path / "b.edf")
    with pytest.raises(RecordTooLargeError):
        read_info(tmp_path / "b.edf", max_values=399)
    (tmp_path / "b.csv").write_text("II,V1\n" + "1,2\n" * 100)
    with pytest.raises(RecordTooLargeError):
        read_record(tmp_path / "b.csv", fs=100, max_values=150)


def test_compressed_mat_inflation_bounded(tmp_path):
    """A CPSC .mat is refused while its compressed variable is inflated in a stream, before scipy loads it."""
    import scipy.io

    scipy.io.savemat(tmp_path / "z.mat", {"ECG": {"data": np.zeros((12, 200_000)), "sex": "Male", "age": 50}},
                     do_compression=True)
    assert (tmp_path / "z.mat").stat().st_size < 1 << 20
    with pytest.raises(RecordTooLargeError, match="inflates"):
        read_record(tmp_path / "z.mat", max_values=100_000)
    assert read_record(tmp_path / "z.mat").signal.shape == (12, 200_000)


def test_corrupt_mat_structure_named_not_crashing(tmp_path):
    """CPSC .mat files are parsed by io/mat5.py, which checks every length (scipy's compiled parser crashed the
    process with a segmentation fault on a fuzzed file)."""
    import scipy.io

    scipy.io.savemat(tmp_path / "c.mat", {"ECG": {"data": np.ones((12, 100)), "sex": "Female", "age": 61}})
    good = (tmp_path / "c.mat").read_bytes()
    rec = read_record(tmp_path / "c.mat")
    assert rec.signal.shape == (12, 100) and rec.metadata["age"] == 61 and rec.metadata["sex"] == "F"
    data_at = good.index(b"data\x00")  # field names; the first field's array follows
    cases = {
        "type 73": good[:data_at + 40] + b"\x49" + good[data_at + 41:],  # a data type byte → 73
        "past": good[:132] + struct.pack("<I", 10**9) + good[136:],  # top-level length past the file
        "short": good[: len(good) - 400],  # truncated inside the data
        "width": good.replace(struct.pack("<HH", 5, 4) + struct.pack("<I", 5), struct.pack("<HH", 5, 4) + bytes(4)),
    }
    for data in cases.values():
        (tmp_path / "bad.mat").write_bytes(data)
        with pytest.raises(ECGFileError, match="corrupt MAT file"):
            read_record(tmp_path / "bad.mat")
