"""A new evaluation task is a task name (`anyecg.data.schema.TASKS`) plus an evaluator registered in
`anyecg.eval.cli.EVALUATORS` (docs/architecture.md, "To add"): this toy task touches nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anyecg.cli import main
from anyecg.data import schema
from anyecg.data.schema import ECGRef, Sample, qa, write_jsonl
from anyecg.eval import cli as eval_cli
from anyecg.eval.predictors import TrivialPredictor


def test_a_toy_task_is_a_name_and_an_evaluator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def evaluate_toy(todo, predictor, args):
        answers = predictor.predict(todo)
        seen.extend(answers)
        score = sum(a == s.truth for a, s in zip(answers, todo, strict=True)) / len(todo)
        return {"exact": score}, f"## toy\n\nexact match {score:.2f}"

    monkeypatch.setattr(schema, "TASKS", (*schema.TASKS, "toy"))
    monkeypatch.setitem(eval_cli.EVALUATORS, "toy", evaluate_toy)
    data = tmp_path / "toy.jsonl"
    write_jsonl(data, [Sample(f"toy-{i}", "toy", "synthetic", "test", (ECGRef("x.npy", 0.0, 10.0, None),),
                              qa("Locate the Premature ventricular contraction on this ECG.",
                                 "No Premature ventricular contraction Found"), {"abnormal_type": "V"})
                        for i in range(3)])
    monkeypatch.setattr(eval_cli, "_predictor", lambda args: TrivialPredictor("always_no"))
    assert main(["eval", "toy", "--endpoint", "http://127.0.0.1:9/v1", "--data", str(data),
                 "--out", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["toy"] == {"exact": 1.0} and seen == ["No Premature ventricular contraction Found"] * 3

