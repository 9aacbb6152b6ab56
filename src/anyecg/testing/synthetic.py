"""A small synthetic training set (WFDB records + JSONL samples) for smoke runs, tests and benchmarks.

Each record is a 12-lead (or 2-lead) 250 Hz ECG-like signal whose heart rate and regularity depend on its
class, so a report ("Sinus bradycardia.") is predictable from the signal and stage 0 can learn something.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from anyecg.leads import CANONICAL_LEADS

CLASSES = {  # report text: (beats per minute, RR jitter as a fraction of the RR interval)
    "Sinus rhythm. Normal ECG.": (70, 0.02),
    "Sinus bradycardia.": (42, 0.02),
    "Sinus tachycardia.": (125, 0.02),
    "Atrial fibrillation with irregular ventricular response.": (95, 0.35),
}
FS = 250


def synthetic_signal(bpm: float, jitter: float, seconds: float, n_leads: int, rng: np.random.Generator
                     ) -> np.ndarray:
    """float32 [n_samples, n_leads] in mV: Gaussian QRS spikes + T waves + noise."""
    n = int(seconds * FS)
    t = np.arange(n) / FS
    beats, x = [], rng.uniform(0, 60 / bpm)
    while x < seconds:
        beats.append(x)
        x += 60 / bpm * (1 + jitter * rng.standard_normal())
    base = np.zeros(n)
    for b in beats:
        base += np.exp(-0.5 * ((t - b) / 0.012) ** 2) - 0.25 * np.exp(-0.5 * ((t - b - 0.25) / 0.05) ** 2)
    gains = rng.uniform(0.5, 1.5, n_leads) * rng.choice([-1, 1], n_leads)
    sig = base[:, None] * gains[None, :] + 0.02 * rng.standard_normal((n, n_leads))
    return sig.astype(np.float32)


def write_synthetic_dataset(out: str | Path, n_records: int = 16, seconds: float = 10.0, n_leads: int = 12,
                            seed: int = 0, bad: int = 0) -> dict[str, Path]:
    """Write records under out/records and JSONL files out/{report,localization}_train.jsonl.

    `bad` extra report samples point at a missing file (to exercise the skip path). Returns task → JSONL path.
    """
    import wfdb

    out = Path(out)
    (out / "records").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = list(CLASSES)
    leads = list(CANONICAL_LEADS[:n_leads]) if n_leads == 12 else ["II", "V1"][:n_leads]
    reports, locs = [], []
    for i in range(n_records):
        report = names[i % len(names)]
        name = f"rec{i:03d}"
        sig = synthetic_signal(*CLASSES[report], seconds, len(leads), rng)
        wfdb.wrsamp(name, fs=FS, units=["mV"] * len(leads), sig_name=leads, p_signal=sig, fmt=["16"] * len(leads),
                    adc_gain=[1000.0] * len(leads), baseline=[0] * len(leads), write_dir=str(out / "records"))
        path = str(out / "records" / name)
        reports.append({"id": f"syn-{name}-report", "task": "report", "dataset": "synthetic", "split": "train",
                        "ecgs": [{"path": path, "start_s": None, "end_s": None, "leads": None}],
                        "conversation": [{"role": "user", "content": "<ecg>\nWrite the report for this ECG."},
                                         {"role": "assistant", "content": f"Report: {report}"}]})
        a = round(float(rng.uniform(0, seconds / 2)), 1)
        locs.append({"id": f"syn-{name}-loc", "task": "localization", "dataset": "synthetic", "split": "train",
                     "ecgs": [{"path": path, "start_s": 0.0, "end_s": seconds, "leads": ["II", "V1"]}],
                     "conversation": [{"role": "user", "content": "<ecg>\nLocate the abnormal beats on this ECG."},
                                      {"role": "assistant", "content": f"Duration: {a}s-{a + 1.5:.1f}s"}]})
    for j in range(bad):
        reports.append({**reports[0], "id": f"syn-bad-{j}",
                        "ecgs": [{"path": str(out / "records" / f"missing{j}"), "start_s": None, "end_s": None,
                                  "leads": None}]})
    files = {"report": out / "report_train.jsonl", "localization": out / "localization_train.jsonl"}
    for task, rows in (("report", reports), ("localization", locs)):
        files[task].write_text("".join(json.dumps(r) + "\n" for r in rows))
    return files
