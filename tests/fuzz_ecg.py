"""Mutation fuzzing of the readers and the upload route (used by tests/test_fuzz.py).

Seeds are small valid files of every format, written by the libraries that define them (wfdb, edfio, numpy,
scipy) or by hand (CSV, XML), plus real files from the shared data folder when it is there. A mutation flips
bits, overwrites, inserts, deletes, repeats or truncates bytes, puts odd numbers (inf, nan, -1, 1e308, 2^32)
in place of numbers in text, or odd integers into binary fields. A file passes when every reader call either
returns or raises an `AnyECGError`, within `FILE_TIMEOUT_S`.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import re
import shutil
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import edfio
import numpy as np
import scipy.io
import wfdb

from anyecg.errors import AnyECGError
from anyecg.io import read_info, read_record
from anyecg.io.cli import describe

FILE_TIMEOUT_S = 20
_ODD_NUMBERS = [b"0", b"-1", b"inf", b"-inf", b"nan", b"abc", b"1e308", b"-1e308", b"99999999999999999999",
                b"4294967296", b"", b"0.0001", b"3", b"65536", b"1e-308", b"2147483648", b"-0"]
_ODD_INTS = [0, 1, 0xFF, 0x7F, 0x80, 0xFFFF, 0x7FFF, 0x8000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


@dataclass(frozen=True)
class Seed:
    """One record: its files (name → bytes) and which of them is the one a reader is given."""

    name: str
    files: dict[str, bytes]
    main: str


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


def make_seeds(folder: Path, shared_data: Path | None = None) -> list[Seed]:
    """Valid small files of every format (and real ones from `shared_data` when given)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(1000) / 250
    sig = np.stack([np.sin(2 * np.pi * 1.2 * t) ** 15, 0.5 * np.cos(2 * np.pi * 1.2 * t)], axis=1)
    seeds: list[Seed] = []
    for fmt in ("212", "16"):
        name = f"w{fmt}"
        wfdb.wrsamp(name, fs=250, units=["mV", "mV"], sig_name=["MLII", "V1"], p_signal=sig, fmt=[fmt, fmt],
                    comments=["69 M 1085 1629 x1", "Dx: 164889003"], write_dir=str(folder),
                    base_time=dt.time(8, 30), base_date=dt.date(2024, 1, 2))
        wfdb.wrann(name, "atr", np.arange(50, 1000, 200), ["N", "V", "N", "+", "N"], write_dir=str(folder),
                   aux_note=["", "", "", "(AFIB", ""])
        seeds.append(Seed(name, {f"{name}.{ext}": _bytes(folder / f"{name}.{ext}") for ext in ("hea", "dat", "atr")},
                          f"{name}.hea"))
    sigs = [edfio.EdfSignal(sig[:, 0] * 1000, 250, label="ECG II", physical_dimension="uV",
                            physical_range=(-5000, 5000)),
            edfio.EdfSignal(rng.uniform(-1, 1, 1000), 250, label="Resp", physical_range=(-1, 1))]
    edfio.Edf(sigs, annotations=[edfio.EdfAnnotation(1.0, 0.5, "AF")], patient=edfio.Patient(sex="F")).write(
        folder / "e.edf")
    seeds.append(Seed("edf", {"e.edf": _bytes(folder / "e.edf")}, "e.edf"))
    np.save(folder / "a.npy", sig.T.astype(np.float32))
    seeds.append(Seed("npy", {"a.npy": _bytes(folder / "a.npy")}, "a.npy"))
    np.savez(folder / "a.npz", signal=sig.T.astype(np.float32), fs=250.0, leads=np.array(["II", "V1"]))
    seeds.append(Seed("npz", {"a.npz": _bytes(folder / "a.npz")}, "a.npz"))
    rows = "\n".join(f"{i / 250:.3f},{a:.4f},{b:.4f}" for i, (a, b) in enumerate(sig[:300]))
    seeds.append(Seed("csv", {"a.csv": f"time,II,V1\n{rows}\n".encode()}, "a.csv"))
    seeds.append(Seed("csv-eu", {"b.csv": ("time;II;V1\n" + rows.replace(",", ";").replace(".", ",")).encode()},
                      "b.csv"))
    seeds.append(Seed("tsv", {"a.tsv": ("II\tV1\n" + "\n".join(f"{a:.4f}\t{b:.4f}" for a, b in sig[:300]))
                              .encode()}, "a.tsv"))
    digits = " ".join(str(int(v)) for v in sig[:500, 0] * 400)
    seeds.append(Seed("hl7", {"h.xml": f"""<?xml version="1.0"?><AnnotatedECG xmlns="urn:hl7-org:v3">
<component><series><code code="RHYTHM"/><component><sequenceSet>
<component><sequence><code code="TIME_ABSOLUTE"/><value><head value="20240102030405.000"/>
<increment value="0.002" unit="s"/></value></sequence></component>
<component><sequence><code code="MDC_ECG_LEAD_II"/><value><origin value="0" unit="uV"/>
<scale value="2.5" unit="uV"/><digits>{digits}</digits></value></sequence></component>
</sequenceSet></component></series></component></AnnotatedECG>""".encode()}, "h.xml"))
    wave = base64.b64encode((sig[:500, 0] * 200).astype("<i2").tobytes()).decode()
    leads = "".join(f"<LeadData><LeadAmplitudeUnitsPerBit>4.88</LeadAmplitudeUnitsPerBit><LeadAmplitudeUnits>"
                    f"MICROVOLTS</LeadAmplitudeUnits><LeadID>{n}</LeadID><WaveFormData>{wave}</WaveFormData>"
                    "</LeadData>" for n in ("I", "II", "V1"))
    seeds.append(Seed("muse", {"m.xml": f"""<?xml version="1.0" encoding="ISO-8859-1"?><RestingECG>
<PatientDemographics><PatientAge>43</PatientAge><Gender>FEMALE</Gender></PatientDemographics>
<TestDemographics><AcquisitionTime>22:41:16</AcquisitionTime><AcquisitionDate>04-29-2023</AcquisitionDate>
</TestDemographics><Diagnosis><DiagnosisStatement><StmtText>Sinus rhythm</StmtText></DiagnosisStatement>
</Diagnosis><Waveform><WaveformType>Rhythm</WaveformType><SampleBase>500</SampleBase>
<SampleExponent>0</SampleExponent>{leads}</Waveform></RestingECG>""".encode()}, "m.xml"))
    scipy.io.savemat(folder / "c.mat", {"ECG": {"data": rng.normal(size=(12, 1000)), "sex": "Male", "age": 60}})
    seeds.append(Seed("mat", {"c.mat": _bytes(folder / "c.mat")}, "c.mat"))
    scipy.io.savemat(folder / "z.mat", {"ECG": {"data": rng.normal(size=(12, 1000)), "sex": "Male", "age": 60}},
                     do_compression=True)
    seeds.append(Seed("mat-z", {"z.mat": _bytes(folder / "z.mat")}, "z.mat"))
    if shared_data is not None:
        seeds += _real_seeds(shared_data)
    return seeds


def _real_seeds(data: Path) -> list[Seed]:
    out = []
    for name in ("ge-muse-example.xml", "hl7-aecg-example.xml"):
        if (data / "formats" / name).is_file():
            out.append(Seed(name, {name: (data / "formats" / name).read_bytes()}, name))
    cinc = data / "cinc2021-sample" / "E07500"
    if cinc.with_suffix(".hea").is_file():
        out.append(Seed("cinc-E07500", {"E07500.hea": cinc.with_suffix(".hea").read_bytes(),
                                        "E07500.mat": cinc.with_suffix(".mat").read_bytes()}, "E07500.hea"))
    return out


# ---- mutations --------------------------------------------------------------------------------------------


def _flip(data: bytearray, rnd: random.Random) -> None:
    for _ in range(rnd.randint(1, 8)):
        i = rnd.randrange(len(data))
        data[i] ^= 1 << rnd.randrange(8)


def _overwrite(data: bytearray, rnd: random.Random) -> None:
    i = rnd.randrange(len(data))
    data[i:i + rnd.randint(1, 16)] = rnd.randbytes(rnd.randint(1, 16))


def _insert(data: bytearray, rnd: random.Random) -> None:
    i = rnd.randrange(len(data) + 1)
    data[i:i] = rnd.randbytes(rnd.randint(1, 64))


def _delete(data: bytearray, rnd: random.Random) -> None:
    i = rnd.randrange(len(data))
    del data[i:i + rnd.randint(1, max(1, len(data) // 8))]


def _repeat(data: bytearray, rnd: random.Random) -> None:
    i = rnd.randrange(len(data))
    piece = data[i:i + rnd.randint(1, 256)]
    data[i:i] = piece * rnd.randint(1, 8)


def _truncate(data: bytearray, rnd: random.Random) -> None:
    del data[rnd.randrange(len(data)):]


def _odd_number(data: bytearray, rnd: random.Random) -> None:
    numbers = list(re.finditer(rb"-?\d+(\.\d+)?(e[-+]?\d+)?", bytes(data[:200_000])))
    if not numbers:
        return _overwrite(data, rnd)
    m = rnd.choice(numbers)
    data[m.start():m.end()] = rnd.choice(_ODD_NUMBERS)
    return None


def _odd_int(data: bytearray, rnd: random.Random) -> None:
    width = rnd.choice((1, 2, 4))
    if len(data) < width:
        return None
    i = rnd.randrange(len(data) - width + 1)
    value = rnd.choice(_ODD_INTS) & ((1 << (8 * width)) - 1)
    data[i:i + width] = value.to_bytes(width, rnd.choice(("little", "big")))
    return None


MUTATIONS: list[Callable[[bytearray, random.Random], None]] = [
    _flip, _overwrite, _insert, _delete, _repeat, _truncate, _odd_number, _odd_number, _odd_int]


def mutate(seed: Seed, rnd: random.Random) -> tuple[dict[str, bytes], str]:
    """The seed's files with one of them mutated 1-3 times; returns (files, which one was mutated)."""
    files = dict(seed.files)
    target = seed.main if rnd.random() < 0.6 else rnd.choice(sorted(files))
    data = bytearray(files[target])
    head = rnd.random() < 0.5  # half the time within the first 512 bytes, where headers are
    part = data[:512] if head else data
    for _ in range(rnd.randint(1, 3)):
        if part:
            rnd.choice(MUTATIONS)(part, rnd)
    files[target] = bytes(part + data[512:] if head else part)
    return files, target


# ---- checks -----------------------------------------------------------------------------------------------


class FileTimeout(Exception):
    """A reader call ran past FILE_TIMEOUT_S."""


def _alarm(*_: object) -> None:
    raise FileTimeout(f"a reader call took more than {FILE_TIMEOUT_S} s")


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def check_readers(path: Path) -> str | None:
    """Every public read of one file; None when all returned or raised AnyECGError, else the crash."""
    calls = (lambda: read_info(path), lambda: describe(path),
             lambda: read_record(path, fs=250.0 if path.suffix == ".npy" else None, start_s=0.5, end_s=2.0))
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for call in calls:
            signal.alarm(FILE_TIMEOUT_S)
            try:
                call()
            except AnyECGError:
                pass
            except Exception as err:  # what the fuzz looks for
                frame = traceback.extract_tb(err.__traceback__)[-1]
                return f"{type(err).__name__}: {str(err)[:200]} at {Path(frame.filename).name}:{frame.lineno}"
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, old)
    return None


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss() -> None:
    """Start VmHWM (peak RSS) afresh from the current RSS (Linux `clear_refs` 5)."""
    Path("/proc/self/clear_refs").write_text("5")
