"""`anyecg data build`: all four tasks, determinism, splits, reports, bad records, resumability."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anyecg.cli import main
from anyecg.data.build import BuildContext, build
from anyecg.data.schema import read_jsonl, resolve_path
from anyecg.data.sources.mitdb import DS1, DS2
from anyecg.data.tasks.localization import LocalizationOptions
from anyecg.errors import DataBuildError
from test_data_helpers import write_holter, write_twelve_lead


def _small_ctx() -> BuildContext:
    return BuildContext(seed=7, localization=LocalizationOptions(max_pos=4), report_windows=3)


def _link_subset(src: Path, dst: Path, names: list[str]) -> Path:
    dst.mkdir()
    for name in names:
        for f in src.glob(f"{name}.*"):
            (dst / f.name).symlink_to(f)
    (dst / "RECORDS").write_text("\n".join(names) + "\n")
    return dst


@pytest.fixture()
def shared_sources(shared_data: Path, tmp_path: Path) -> dict[str, Path]:
    """A small slice of ../shared/data: 2 MIT-BIH records, 6 CPSC, 12 CinC, ECG-QA, PTB-XL metadata."""
    return {"mitdb": _link_subset(shared_data / "mitdb", tmp_path / "mitdb", ["100", "119"]),
            "cpsc2018": _link_subset(shared_data / "cpsc2018-a0001-a0150", tmp_path / "cpsc",
                                     ["A0001", "A0002", "A0003", "A0101", "A0102", "A0103"]),
            "cinc2021": _link_subset(shared_data / "cinc2021-sample", tmp_path / "cinc",
                                     [f"HR0600{i}" for i in range(10)] + ["E07500", "JS20000"]),
            "ecgqa": shared_data / "ecgqa", "ptbxl": shared_data / "ptbxl-meta"}


def _all_samples(out: Path) -> list:
    return [s for f in sorted(out.glob("*_*.jsonl")) for s in read_jsonl(f)]


def test_shared_build(shared_sources: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    manifest = build(shared_sources, out, ctx=_small_ctx(), progress=False)
    samples = _all_samples(out)
    assert {s.task for s in samples} == {"report", "localization", "multiecg", "ecgqa"}
    # no record in two splits, across every task and source
    split_of: dict[str, str] = {}
    for s in samples:
        for e in s.ecgs:
            assert split_of.setdefault(e.path, s.split) == s.split, e.path
            assert resolve_path(e, manifest["roots"]).with_suffix(".hea").is_file() or \
                resolve_path(e, manifest["roots"]).with_name(resolve_path(e, manifest["roots"]).name + ".hea").is_file()
    assert split_of["mitdb:100"] == "test" and split_of["mitdb:119"] == "train"  # DS2 / DS1
    assert set(manifest["splits"]["mitdb"]["train"]) <= DS1 and set(manifest["splits"]["mitdb"]["test"]) <= DS2
    cpsc = manifest["splits"]["cpsc2018"]
    assert cpsc["test"] == ["A0101", "A0102", "A0103"] and cpsc["train"] == ["A0001", "A0002", "A0003"]
    # ECG-QA: passthrough with the suffix, question type kept, absent signals counted
    qa = [s for s in samples if s.task == "ecgqa"]
    assert qa and all(s.question.endswith(" Please answer briefly.") and s.meta["question_type"] for s in qa)
    assert manifest["rejected"]["ecgqa question: ECG signal absent"] > 1000
    assert manifest["skipped"]["by_reason"]["waveform absent"] > 1000  # PTB-XL metadata without waveforms
    # reports mention every label of their record / window
    for s in samples:
        if s.task == "report":
            assert s.answer.startswith("Report: ")
            for label in s.meta["labels"]:
                assert label in s.answer, (s.id, label)
    multi = [s for s in samples if s.task == "multiecg"]
    assert multi and all(2 <= len(s.ecgs) <= 6 and s.question.count("<ecg>") == len(s.ecgs) for s in multi)
    assert any("pair" in n for n in manifest["sources"]["cpsc2018"]["notes"]["listed"])
    card = (out / "data_card.md").read_text()
    assert "## ECG length histogram" in card and "localization_train.jsonl" in card


def test_deterministic_bytes(shared_sources: dict[str, Path], tmp_path: Path) -> None:
    one = tmp_path / "one"
    two = tmp_path / "two"
    sources = {k: shared_sources[k] for k in ("mitdb", "cpsc2018")}
    build(sources, one, ctx=_small_ctx(), progress=False)
    build(sources, two, ctx=_small_ctx(), workers=2, progress=False)
    names = sorted(p.name for p in one.iterdir() if p.is_file())
    assert names == sorted(p.name for p in two.iterdir() if p.is_file())
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    other = tmp_path / "seed"
    build(sources, other, ctx=BuildContext(seed=8, localization=LocalizationOptions(max_pos=4), report_windows=3),
          progress=False)
    assert (other / "localization_test.jsonl").read_bytes() != (one / "localization_test.jsonl").read_bytes()


def test_bad_records_are_counted_not_fatal(tmp_path: Path) -> None:
    db = tmp_path / "edb"
    db.mkdir()
    write_holter(db, "e0001", seed=1, unknown=True)
    write_holter(db, "e0002", seed=2)
    write_holter(db, "e0003", seed=3)
    dat = db / "e0003.dat"
    dat.write_bytes(dat.read_bytes()[:1000])  # truncated signal file
    out = tmp_path / "out"
    manifest = build({"edb": db}, out, ctx=_small_ctx(), progress=False)
    reasons = [r for _, rec, r in manifest["skipped"]["listed"] if rec == "e0003"]
    assert reasons and "truncated" in reasons[0]
    assert any("unknown annotation symbol" in why for _, _, why in manifest["issues"]["listed"])
    assert manifest["files"]["localization_train.jsonl"] + manifest["files"].get("localization_test.jsonl", 0) > 0


def test_resume_and_fresh(tmp_path: Path) -> None:
    db = tmp_path / "svdb"
    db.mkdir()
    write_holter(db, "800", fs=128)
    out = tmp_path / "out"
    first = build({"svdb": db}, out, ctx=_small_ctx(), progress=False)
    shard = next((out / ".shards").glob("svdb-*.jsonl"))
    stamp = shard.stat().st_mtime_ns
    assert build({"svdb": db}, out, ctx=_small_ctx(), progress=False) == first
    assert shard.stat().st_mtime_ns == stamp  # finished shards are not redone
    with pytest.raises(DataBuildError, match="--fresh"):
        build({"svdb": db}, out, ctx=BuildContext(seed=1), progress=False)
    build({"svdb": db}, out, ctx=BuildContext(seed=1), progress=False, fresh=True)


def test_ptbxl_and_mimic_metadata(tmp_path: Path) -> None:
    ptb = tmp_path / "ptbxl"
    (ptb / "records500" / "00000").mkdir(parents=True)
    (ptb / "scp_statements.csv").write_text(",description\nSR,sinus rhythm\nAFIB,atrial fibrillation\n"
                                            "PVC,ventricular premature complex\n")
    rows = ["ecg_id,patient_id,recording_date,report,scp_codes,strat_fold,filename_hr"]
    for i, (pid, date, codes) in enumerate([(7, "1990-01-01 10:00:00", "{'SR': 100.0}"),
                                            (7, "1993-08-17 10:00:00", "{'AFIB': 100.0, 'PVC': 0.0}"),
                                            (8, "1991-01-01 10:00:00", "{'SR': 100.0}")], 1):
        rows.append(f'{i},{pid}.0,{date},report {i},"{codes}",3,records500/00000/{i:05d}_hr')
        write_twelve_lead(ptb / "records500" / "00000", f"{i:05d}_hr", "426783006")
    (ptb / "ptbxl_database.csv").write_text("\n".join(rows) + "\n")
    mimic = tmp_path / "mimic"
    (mimic / "files").mkdir(parents=True)
    (mimic / "record_list.csv").write_text(
        "subject_id,study_id,file_name,ecg_time,path\n"
        "1,11,11,2180-01-01 10:00:00,files/11\n1,12,12,2181-01-01 10:00:00,files/12\n2,21,21,2180-01-01 10:00:00,files/21\n")
    (mimic / "machine_measurements.csv").write_text(
        "subject_id,study_id,report_0,report_1,rr_interval\n1,11,Sinus rhythm,Normal ECG,1000\n"
        "1,12,Atrial fibrillation,,600\n2,21,Sinus rhythm,,800\n")
    for study in ("11", "12"):  # study 21 has no waveform
        write_twelve_lead(mimic / "files", study, "426783006")
    out = tmp_path / "out"
    manifest = build({"ptbxl": ptb, "mimic": mimic}, out, tasks=("report", "multiecg"), ctx=_small_ctx(),
                     progress=False)
    samples = _all_samples(out)
    reports = {s.id: s.answer for s in samples if s.task == "report"}
    assert reports["mimic-11-report"] == "Report: Sinus rhythm, Normal ECG"
    assert reports["ptbxl-2-report"] == "Report: Atrial fibrillation, Premature ventricular contraction"
    ptb2 = next(s for s in samples if s.id == "ptbxl-2-report")
    assert ptb2.meta["scp_codes"] == "{'AFIB': 100.0, 'PVC': 0.0}"  # the eval's PTB-XL label sets read these
    multi = [s for s in samples if s.task == "multiecg"]
    ptb_multi = [s for s in multi if s.dataset == "ptbxl"]
    assert ptb_multi and all(s.meta["same_patient"] for s in multi)
    assert "ECGs collected 1324 days ago, 0 days ago" in ptb_multi[0].question
    rate = [s for s in multi if s.dataset == "mimic" and s.meta["aspect"] == "rate"]
    assert rate and "from 60 to 100 bpm" in rate[0].answer
    overall = next(s for s in multi if s.dataset == "mimic" and s.meta["aspect"] == "overall")
    assert "New in the last ECG: Atrial fibrillation" in overall.answer
    assert manifest["skipped"]["by_reason"]["waveform absent"] == 1


def test_cli_build(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "cinc"
    db.mkdir()
    write_twelve_lead(db, "A0001", "RBBB")
    write_twelve_lead(db, "A0002", "164889003,999999")
    rc = main(["data", "build", "--source", f"cpsc2018={db}", "--out", str(tmp_path / "o"), "--quiet",
               "--tasks", "report"])
    assert rc == 0
    assert "report_train.jsonl: 2 samples" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert any("999999" in n for n in manifest["sources"]["cpsc2018"]["notes"]["listed"])
    assert main(["data", "build", "--source", "nosuch=/x", "--out", str(tmp_path / "p")]) == 2
