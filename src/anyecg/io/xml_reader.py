"""XML ECGs: HL7 annotated ECG (FDA aECG) and GE MUSE RestingECG exports."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from pathlib import Path

import numpy as np
from lxml import etree

from anyecg.errors import ECGFileError, SignalError, UnsupportedFormatError
from anyecg.io.common import (
    ReadOptions,
    RecordInfo,
    check_fs,
    info_from_record,
    make_record,
    norm_sex,
    parse_age,
    select_channels,
    unit_scale,
    window,
)
from anyecg.io.record import ECGRecord

HL7 = "urn:hl7-org:v3"
_NS = {"h": HL7}
_LEAD_CODE = "MDC_ECG_LEAD_"
_MUSE_UNITS = {"MICROVOLTS": "uV", "MILLIVOLTS": "mV", "VOLTS": "V"}
# Limb leads MUSE does not store: computed from I and II (Einthoven / Goldberger).
_DERIVED = {"III": lambda i, ii: ii - i, "aVR": lambda i, ii: -(i + ii) / 2,
            "aVL": lambda i, ii: i - ii / 2, "aVF": lambda i, ii: ii - i / 2}


def _number(text: str | None, what: str, path: Path, default: float | None = None) -> float:
    """A number from an attribute or element; ECGFileError naming `what` when it is missing or not one."""
    if text is None or not text.strip():
        if default is not None:
            return default
        raise ECGFileError(f"{what} is missing", path)
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value):
        raise ECGFileError(f"{what} {text.strip()[:40]!r} is not a number", path)
    return value


def _parse(path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.parse(str(path), parser).getroot()
    except (etree.XMLSyntaxError, OSError) as err:
        raise ECGFileError(f"malformed XML: {err}", path) from err


def read_info(path: Path, opts: ReadOptions) -> RecordInfo:
    return info_from_record(read(path, opts))


def read(path: Path, opts: ReadOptions) -> ECGRecord:
    root = _parse(path)
    tag = etree.QName(root).localname
    if tag == "AnnotatedECG":
        fmt, (data, names, units, fs, start_time, diagnoses, meta) = "hl7-aecg", _hl7(root, path)
    elif tag == "RestingECG":
        fmt, (data, names, units, fs, start_time, diagnoses, meta) = "ge-muse", _muse(root, path)
    else:
        raise UnsupportedFormatError(f"XML root <{tag}> is neither HL7 aECG <AnnotatedECG> "
                                     "nor GE MUSE <RestingECG>", path)
    lengths = {len(x) for x in data}
    if len(lengths) > 1:
        raise SignalError(f"leads have different lengths {sorted(lengths)}", path)
    channels = select_channels(names, opts, path)
    fs = check_fs(fs, opts, path)
    start, stop = window(lengths.pop(), fs, opts, path)
    rows = list(channels.index)
    signal = np.stack([data[i][start:stop] * unit_scale(units[i], path, names[i]) for i in rows])
    meta["units"] = [units[i] for i in rows]
    return make_record(path, fmt, signal, fs, channels, offset=start, start_time=start_time,
                       diagnoses=diagnoses, metadata=meta)


# ---- HL7 aECG ----------------------------------------------------------------------------------------------


def _hl7_time(text: str | None) -> dt.datetime | None:
    m = re.match(r"^(\d{4})(\d\d)(\d\d)(\d\d)?(\d\d)?(\d\d)?(\.\d+)?", text or "")
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g or 0) for g in m.groups()[:6])
    try:
        return dt.datetime(y, mo, d, h, mi, s, int(float(m.group(7) or 0) * 1e6))
    except ValueError:  # month 13, hour 25: no usable time
        return None


def _hl7(root, path: Path):
    series = root.findall(".//h:series", _NS)
    series.sort(key=lambda s: s.find("h:code", _NS) is None or s.find("h:code", _NS).get("code") != "RHYTHM")
    data, names, units, fs, start_time = [], [], [], None, None
    for one in series:
        for seq in one.iterfind("h:component/h:sequenceSet/h:component/h:sequence", _NS):
            code = (seq.find("h:code", _NS).get("code") or "") if seq.find("h:code", _NS) is not None else ""
            value = seq.find("h:value", _NS)
            if value is None:
                continue
            if code.startswith("TIME_") and (inc := value.find("h:increment", _NS)) is not None:
                step = _number(inc.get("value"), "time <increment> value", path) * (
                    1e-3 if inc.get("unit") == "ms" else 1.0)
                fs = 1.0 / step if step > 0 else 0.0
                start_time = _hl7_time(value.find("h:head", _NS).get("value")
                                       if value.find("h:head", _NS) is not None else None)
            elif code.startswith(_LEAD_CODE) and (digits := value.find("h:digits", _NS)) is not None:
                scale, origin = value.find("h:scale", _NS), value.find("h:origin", _NS)
                gain = _number(scale.get("value"), f"lead {code}: <scale> value", path) if scale is not None else 1.0
                zero = _number(origin.get("value"), f"lead {code}: <origin> value", path) if origin is not None else 0.0
                try:
                    raw = np.array((digits.text or "").split(), dtype=np.float64)
                except ValueError as err:
                    raise ECGFileError(f"lead {code}: non-numeric <digits>: {err}", path) from err
                data.append(zero + gain * raw)
                names.append(code[len(_LEAD_CODE):])
                units.append(scale.get("unit", "uV") if scale is not None else "uV")
        if data:
            break
    if not data:
        raise ECGFileError("HL7 aECG file holds no waveform (no MDC_ECG_LEAD_* <sequence>)", path)
    diagnoses = [ann.find("h:value", _NS).get("displayName") or ann.find("h:value", _NS).get("code")
                 for ann in root.iterfind(".//h:annotation", _NS)
                 if ann.find("h:code", _NS) is not None and ann.find("h:value", _NS) is not None
                 and (ann.find("h:code", _NS).get("code") or "").startswith(("MDC_ECG_RHY", "MDC_ECG_INTERP"))]
    meta: dict = {}
    if (gender := root.find(".//h:administrativeGenderCode", _NS)) is not None:
        meta["sex"] = norm_sex(gender.get("code", ""))
    age_code = root.find(".//h:code[@code='21612-7']", _NS)
    if age_code is not None and (age := age_code.getparent().find("h:value", _NS)) is not None:
        meta["age"] = parse_age(age.get("value"))
    return data, names, units, fs, start_time, [d for d in diagnoses if d], meta


# ---- GE MUSE -----------------------------------------------------------------------------------------------


def _text(node, tag: str, default: str = "") -> str:
    found = node.find(tag)
    return (found.text or default).strip() if found is not None else default


def _muse(root, path: Path):
    waves = root.findall("Waveform")
    waves.sort(key=lambda w: _text(w, "WaveformType").lower() != "rhythm")
    wave = next((w for w in waves if w.find("LeadData") is not None), None)
    if wave is None:
        raise ECGFileError("GE MUSE file holds no waveform (no <Waveform> with <LeadData>)", path)
    exponent = _number(_text(wave, "SampleExponent"), "<SampleExponent>", path, 0.0)
    if exponent != int(exponent) or abs(exponent) > 6:
        raise ECGFileError(f"<SampleExponent> {exponent:g} is not a small whole number", path)
    fs = _number(_text(wave, "SampleBase"), "<SampleBase>", path) * 10 ** int(exponent)
    data, names, units = [], [], []
    for lead in wave.iterfind("LeadData"):
        name = _text(lead, "LeadID")
        try:
            raw = np.frombuffer(base64.b64decode(_text(lead, "WaveFormData"), validate=False), dtype="<i2")
        except (binascii.Error, ValueError) as err:
            raise ECGFileError(f"lead {name}: bad base64 <WaveFormData>: {err}", path) from err
        data.append(raw * _number(_text(lead, "LeadAmplitudeUnitsPerBit"), f"lead {name}: <LeadAmplitudeUnitsPerBit>",
                                  path, 1.0))
        names.append(name)
        unit = _text(lead, "LeadAmplitudeUnits", "MICROVOLTS").upper()
        units.append(_MUSE_UNITS.get(unit, unit))
    meta: dict = {}
    if "I" in names and "II" in names:
        i, ii = data[names.index("I")], data[names.index("II")]
        if len(i) != len(ii):
            raise SignalError(f"leads I and II have different lengths ({len(i)} and {len(ii)} samples)", path)
        derived = [lead for lead in _DERIVED if lead not in names]
        for lead in derived:
            data.append(_DERIVED[lead](i, ii))
            names.append(lead)
            units.append(units[names.index("I")])
        if derived:
            meta["derived_leads"] = derived
    demo = root.find("PatientDemographics")
    if demo is not None:
        if (age := parse_age(_text(demo, "PatientAge"))) is not None:
            meta["age"] = age
        if sex := norm_sex(_text(demo, "Gender")):
            meta["sex"] = sex
    return data, names, units, fs, _muse_time(root), _muse_statements(root), meta


def _muse_time(root) -> dt.datetime | None:
    test = root.find("TestDemographics")
    if test is None:
        return None
    try:
        return dt.datetime.strptime(f"{_text(test, 'AcquisitionDate')} {_text(test, 'AcquisitionTime')}",
                                    "%m-%d-%Y %H:%M:%S")
    except ValueError:
        return None


def _muse_statements(root) -> list[str]:
    """<DiagnosisStatement> pieces joined into lines; a line ends at an ENDSLINE flag."""
    diag = root.find("Diagnosis")
    if diag is None:
        diag = root.find("OriginalDiagnosis")
    lines, current = [], ""
    for stmt in diag.iterfind("DiagnosisStatement") if diag is not None else ():
        piece = _text(stmt, "StmtText")
        current = f"{current}{'' if piece.startswith(',') or not current else ' '}{piece}"
        if any((flag.text or "").strip() == "ENDSLINE" for flag in stmt.iterfind("StmtFlag")):
            lines.append(current.strip())
            current = ""
    if current.strip():
        lines.append(current.strip())
    return [line for line in lines if line]
