"""XML (HL7 aECG, GE MUSE), CPSC .mat and format detection."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest
import scipy.io

from anyecg.errors import ECGFileError, UnsupportedFormatError
from anyecg.io import ECGRecord, detect_format, read_info, read_record


def hl7_xml(leads: dict[str, np.ndarray], step_s=0.002, scale_uv=2.5) -> str:
    seqs = "".join(
        f"""<component><sequence><code code="MDC_ECG_LEAD_{name}"/><value><origin value="0" unit="uV"/>
        <scale value="{scale_uv}" unit="uV"/><digits>{' '.join(str(int(v)) for v in digits)}</digits>
        </value></sequence></component>""" for name, digits in leads.items())
    return f"""<?xml version="1.0"?><AnnotatedECG xmlns="urn:hl7-org:v3">
    <component><series><code code="RHYTHM"/><component><sequenceSet>
    <component><sequence><code code="TIME_ABSOLUTE"/><value><head value="20240102030405.000"/>
    <increment value="{step_s}" unit="s"/></value></sequence></component>{seqs}
    </sequenceSet></component>
    <subjectOf><annotationSet><component><annotation><code code="MDC_ECG_RHY"/>
    <value code="MDC_ECG_RHY_SINUS_RHY" displayName="Sinus Rhythm"/></annotation></component>
    </annotationSet></subjectOf></series></component></AnnotatedECG>"""


def muse_xml(leads: dict[str, np.ndarray], upb=4.88, statements=()) -> str:
    data = "".join(
        f"""<LeadData><LeadAmplitudeUnitsPerBit>{upb}</LeadAmplitudeUnitsPerBit>
        <LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits><LeadID>{name}</LeadID>
        <WaveFormData>{base64.b64encode(d.astype('<i2').tobytes()).decode()}</WaveFormData></LeadData>"""
        for name, d in leads.items())
    stmts = "".join(f"<DiagnosisStatement>{'<StmtFlag>ENDSLINE</StmtFlag>' if end else ''}"
                    f"<StmtText>{text}</StmtText></DiagnosisStatement>" for text, end in statements)
    wave = f"""<Waveform><WaveformType>Rhythm</WaveformType><SampleBase>500</SampleBase>
        <SampleExponent>0</SampleExponent>{data}</Waveform>""" if leads else ""
    return f"""<?xml version="1.0" encoding="ISO-8859-1"?><!DOCTYPE RestingECG SYSTEM "restecg.dtd">
    <RestingECG><PatientDemographics><PatientAge>43</PatientAge><Gender>FEMALE</Gender></PatientDemographics>
    <TestDemographics><AcquisitionTime>22:41:16</AcquisitionTime><AcquisitionDate>04-29-2023</AcquisitionDate>
    </TestDemographics><Diagnosis>{stmts}</Diagnosis>{wave}</RestingECG>"""


def digits(n_leads, n=1000, seed=0):
    return np.random.default_rng(seed).integers(-400, 400, (n_leads, n))


def test_hl7_round_trip(tmp_path):
    d = digits(3)
    path = tmp_path / "a.xml"
    path.write_text(hl7_xml(dict(zip(["I", "AVR", "V1"], d, strict=True))))
    rec = read_record(path)
    assert rec == ECGRecord(signal=d * 2.5e-3, fs=500.0, leads=("I", "aVR", "V1"), diagnoses=("Sinus Rhythm",))
    assert rec.format == "hl7-aecg" and rec.start_time.isoformat() == "2024-01-02T03:04:05"
    part = read_record(path, start_s=1.0, end_s=1.5)
    assert part.offset == 500 and np.allclose(part.signal, d[:, 500:750] * 2.5e-3)


def test_muse_round_trip_with_derived_leads(tmp_path):
    d = digits(3)
    path = tmp_path / "m.xml"
    path.write_text(muse_xml(dict(zip(["I", "II", "V1"], d, strict=True)),
                             statements=[("Sinus rhythm", True), ("Anterior infarct", False),
                                         (", age undetermined", True)]))
    rec = read_record(path)
    i, ii = d[0] * 4.88e-3, d[1] * 4.88e-3
    want = np.stack([i, ii, d[2] * 4.88e-3, ii - i, -(i + ii) / 2, i - ii / 2, ii - i / 2])
    assert rec == ECGRecord(signal=want, fs=500.0, leads=("I", "II", "V1", "III", "aVR", "aVL", "aVF"),
                            diagnoses=("Sinus rhythm", "Anterior infarct, age undetermined"))
    assert rec.metadata["derived_leads"] == ["III", "aVR", "aVL", "aVF"]
    assert rec.metadata["age"] == 43 and rec.metadata["sex"] == "F" and rec.start_time.year == 2023


def test_xml_without_waveform(tmp_path):
    (tmp_path / "m.xml").write_text(muse_xml({}))
    with pytest.raises(ECGFileError, match="no waveform"):
        read_record(tmp_path / "m.xml")
    (tmp_path / "h.xml").write_text(hl7_xml({}))
    with pytest.raises(ECGFileError, match="no waveform"):
        read_record(tmp_path / "h.xml")
    (tmp_path / "other.xml").write_text("<?xml version='1.0'?><svg><g/></svg>")
    with pytest.raises(UnsupportedFormatError, match="<svg>"):
        read_record(tmp_path / "other.xml")
    (tmp_path / "broken.xml").write_text("<RestingECG><Waveform>")
    with pytest.raises(ECGFileError, match="malformed XML"):
        read_record(tmp_path / "broken.xml")


def test_cpsc_mat(tmp_path):
    x = np.random.default_rng(3).standard_normal((12, 2500))
    scipy.io.savemat(tmp_path / "A9999.mat", {"ECG": {"sex": "Female", "age": 61.0, "data": x}})
    rec = read_record(tmp_path / "A9999.mat")
    assert rec.format == "cpsc-mat" and rec.fs == 500.0 and rec.leads[6] == "V1"
    assert np.allclose(rec.signal, x, atol=1e-6) and rec.metadata["sex"] == "F" and rec.metadata["age"] == 61
    scipy.io.savemat(tmp_path / "val.mat", {"val": x})
    with pytest.raises(UnsupportedFormatError, match=r"\.hea"):
        read_record(tmp_path / "val.mat")


def test_not_an_ecg(tmp_path):
    png = tmp_path / "scan.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    prose = "The patient reported palpitations.\nFollow-up in two weeks.\n"
    (tmp_path / "notes").write_text(prose)
    (tmp_path / "notes.txt").write_text(prose)
    (tmp_path / "blob.bin").write_bytes(np.random.default_rng(0).bytes(3000))
    for path in (png, tmp_path / "notes", tmp_path / "notes.txt", tmp_path / "blob.bin"):
        with pytest.raises(UnsupportedFormatError, match=re.escape(path.name)):
            read_record(path)


def test_detection_by_content(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((12, 10)))
    (tmp_path / "x.npy").rename(tmp_path / "noext")
    assert detect_format(tmp_path / "noext") == "npy"
    (tmp_path / "m").write_text(muse_xml({"I": np.zeros(10)}))
    assert detect_format(tmp_path / "m") == "xml"


# ---- real files ------------------------------------------------------------------------------------------


def test_real_xml_files(shared_data):
    hl7 = read_record(shared_data / "formats" / "hl7-aecg-example.xml")
    assert hl7.format == "hl7-aecg" and hl7.signal.shape == (12, 5000) and hl7.fs == 500.0
    assert hl7.diagnoses == ("Sinus Rhythm",) and hl7.metadata["sex"] == "M"
    muse = read_record(shared_data / "formats" / "ge-muse-example.xml")
    assert muse.format == "ge-muse" and muse.signal.shape == (12, 5000) and len(set(muse.leads)) == 12
    assert muse.diagnoses[0] == "Normal Sinus rhythm" and muse.metadata["age"] == 43
    assert 0.1 < np.abs(muse.signal).max() < 5  # millivolts
    info = read_info(shared_data / "formats" / "ge-muse-example.xml")
    assert info.n_samples == 5000 and info.duration_s == 10.0


def test_real_cpsc_mat_files(shared_data):
    files = sorted((shared_data / "cpsc2018-sample").glob("*.mat"))
    assert len(files) == 10
    for path in files:
        rec = read_record(path)
        raw = scipy.io.loadmat(path)["ECG"][0, 0]["data"]
        assert rec.signal.shape == raw.shape and np.allclose(rec.signal, raw, atol=1e-5)
        assert 10 <= rec.duration_s <= 60 and rec.metadata["sex"] in ("M", "F")
