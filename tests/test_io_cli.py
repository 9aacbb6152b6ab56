"""`anyecg info`: text and JSON output, NaN/flat leads, one-line errors with exit status 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anyecg.cli import main


@pytest.fixture
def npz(tmp_path):
    x = np.random.default_rng(0).uniform(-1, 1, (3, 1000)).astype(np.float32)
    x[1] = np.nan
    x[2] = 0.25
    path = tmp_path / "q.npz"
    np.savez(path, signal=x, fs=250.0, leads=np.array(["MLII", "V1", "Resp"]))
    return path


def test_info_text_and_json(npz, capsys):
    assert main(["info", str(npz), "--lead-map", "Resp=V2"]) == 0
    out = capsys.readouterr().out
    assert "npz (float32), 250 Hz, 1000 samples" in out and "MLII -> II" in out
    assert "NaN/flat leads: V1, V2" in out and "all NaN" in out and "FLAT" in out
    assert main(["info", str(npz), "--drop-unknown", "--json"]) == 0
    (d,) = json.loads(capsys.readouterr().out)
    assert d["dropped_leads"] == ["Resp"] and d["duration_s"] == 4.0
    assert [(x["lead"], x["all_nan"], x["flat"]) for x in d["leads"]] == [("II", False, False), ("V1", True, False)]


def test_info_annotations_and_events(tmp_path, capsys):
    import wfdb
    wfdb.wrsamp("r", fs=100, units=["mV"], sig_name=["II"], d_signal=np.zeros((1000, 1), dtype=np.int32),
                fmt=["16"], adc_gain=[200.0], baseline=[0], write_dir=str(tmp_path))
    wfdb.wrann("r", "atr", np.array([1, 50, 90, 400]), symbol=["+", "N", "V", "+"],
               aux_note=["(N", "", "", "(AFIB"], write_dir=str(tmp_path))
    assert main(["info", str(tmp_path / "r"), "--json"]) == 0
    (d,) = json.loads(capsys.readouterr().out)
    assert d["annotator"] == "atr" and d["annotations"] == {"+": 2, "N": 1, "V": 1}
    assert d["events"] == {"(N": {"count": 1, "total_s": 3.99}, "(AFIB": {"count": 1, "total_s": 6.0}}
    assert d["leads"][0]["flat"]


@pytest.mark.parametrize("make, args, reason", [
    (lambda p: None, [], "no such file"),
    (lambda p: np.save(p, np.zeros(5)), ["--fs", "100"], "expected 2-D"),
    (lambda p: np.save(p, np.zeros((2, 3, 4))), ["--fs", "100"], "expected 2-D"),
    (lambda p: np.save(p, np.zeros((12, 40))), ["--fs", "0"], "> 0 Hz"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00"), [], "not an ECG file"),
])
def test_info_errors_one_line_exit_2(tmp_path, capsys, make, args, reason):
    path = tmp_path / "f.npy"
    make(path)
    assert main(["info", str(path), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"anyecg: error: {path}: ") and reason in err
    assert "Traceback" not in err


def test_info_real_records(shared_data, capsys):
    files = [shared_data / "mitdb" / "232", shared_data / "formats" / "hl7-aecg-example.xml",
             shared_data / "cpsc2018-sample" / "A1980.mat", shared_data / "cpsc2018-a0001-a0150" / "A0007.hea"]
    assert main(["info", "--json", *map(str, files)]) == 0
    mit, hl7, mat, a7 = json.loads(capsys.readouterr().out)
    assert mit["annotations"]["A"] > 1000 and mit["duration_s"] == pytest.approx(1805.556, abs=1e-3)
    assert hl7["format"] == "hl7-aecg" and len(hl7["leads"]) == 12 and hl7["diagnoses"] == ["Sinus Rhythm"]
    assert mat["format"] == "cpsc-mat" and mat["sex"] in ("M", "F")
    assert a7["diagnoses"] and not any(x["all_nan"] for x in a7["leads"])
