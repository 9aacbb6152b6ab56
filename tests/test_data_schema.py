"""Sample schema: round trip, validation errors, path resolution, atomic JSONL writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anyecg.data.schema import ECGRef, Sample, qa, read_jsonl, resolve_path, validate, write_jsonl
from anyecg.errors import DataBuildError


def _sample(**kw) -> Sample:
    base = dict(id="s1", task="localization", dataset="mitdb", split="train",
                ecgs=(ECGRef("mitdb:100", 12.3, 22.3, ("II", "V1")),),
                conversation=qa("Locate the V.", "Duration: 1.9s-3.1s"), meta={"abnormal_type": "V"})
    base.update(kw)
    return Sample(**base)


def test_round_trip(tmp_path: Path) -> None:
    samples = [_sample(), _sample(id="s2", ecgs=(ECGRef("a.hea"), ECGRef("b.hea")),
                                  conversation=qa("Compare.", "Same.", 2), task="multiecg")]
    assert write_jsonl(tmp_path / "x.jsonl", samples) == 2
    assert list(read_jsonl(tmp_path / "x.jsonl")) == samples
    assert samples[1].question.startswith("<ecg>\n<ecg>\n")
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize(("change", "message"), [
    ({"task": "nope"}, "task 'nope'"),
    ({"split": "dev"}, "split 'dev'"),
    ({"ecgs": [{"path": "x", "start_s": 5, "end_s": 2}]}, "ends"),
    ({"ecgs": [{"path": "x", "leads": ["MLII"]}]}, "canonical"),
    ({"ecgs": []}, "placeholder"),
    ({"conversation": [{"role": "user", "content": "<ecg>\nq"}]}, "no assistant"),
])
def test_validation_names_the_problem(change: dict, message: str) -> None:
    d = _sample().to_dict()
    d.update(change)
    with pytest.raises(DataBuildError, match=message):
        validate(d, "f.jsonl:1")


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(_sample().to_json() + "\n{oops\n")
    with pytest.raises(DataBuildError, match=r"bad.jsonl: line 2"):
        list(read_jsonl(path))


def test_resolve_path() -> None:
    assert resolve_path("mitdb:100", {"mitdb": "/data/mitdb"}) == Path("/data/mitdb/100")
    assert resolve_path("/abs/100.hea", {}) == Path("/abs/100.hea")
    assert resolve_path(ECGRef("C:/x/100"), {}) == Path("C:/x/100")
    with pytest.raises(DataBuildError, match="no root for source 'edb'"):
        resolve_path("edb:e0103", {"mitdb": "/x"})


def test_json_is_plain() -> None:
    d = json.loads(_sample().to_json())
    assert list(d) == ["id", "task", "dataset", "split", "ecgs", "conversation", "meta"]
