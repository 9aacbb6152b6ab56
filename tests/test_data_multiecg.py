"""MultiECG groups, answers, pairing, and the cached LLM rewrite against a fake OpenAI-compatible server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from anyecg.data.sources.base import Unit
from anyecg.data.tasks.llm_rewrite import rewrite
from anyecg.data.tasks.multiecg import answer_for, comparison_answer, group_samples, make_groups


def _unit(key: str, patient: str | None, time: str | None, labels: tuple[str, ...], split: str = "train") -> Unit:
    return Unit("src", key, f"src:{key}", split, f"src:{key}", patient=patient, time=time, labels=labels)


def test_groups_by_patient_in_time_order() -> None:
    units = [_unit(str(i), "p1", f"2000-01-{1 + (7 - i):02d} 00:00:00", ("Sinus rhythm",)) for i in range(8)]
    units.append(_unit("x", "p2", "2000-01-01 00:00:00", ("Sinus rhythm",)))  # alone: no group
    groups, same = make_groups(units, 0, "src")
    assert same and [len(g) for g in groups] == [6, 2]
    assert [u.key for u in groups[0]] == ["7", "6", "5", "4", "3", "2"]


def test_pairs_without_patients() -> None:
    units = [_unit(f"r{i}", None, None, ("Sinus rhythm",), "train" if i < 5 else "test") for i in range(8)]
    groups, same = make_groups(units, 0, "src")
    assert not same and all(len(g) == 2 and g[0].split == g[1].split for g in groups)
    assert len(groups) == 3  # 5 train → 2 pairs, 3 test → 1 pair


def test_answers_and_gaps() -> None:
    a = _unit("a", "p", "2001-01-01 00:00:00", ("Sinus rhythm", "Right bundle branch block"))
    b = _unit("b", "p", "2004-08-21 00:00:00", ("Atrial fibrillation", "Right bundle branch block"))
    text = answer_for((a, b), "rhythm")
    assert "ECG 1: Sinus rhythm." in text and "New in the last ECG: Atrial fibrillation." in text
    assert "No longer present: Sinus rhythm." in text
    assert "No change in conduction" in answer_for((a, b), "conduction")
    samples = group_samples((a, b), source="src", same_patient=True, seed=0)
    assert samples[0].meta["aspect"] == "overall"
    assert samples[0].question.startswith("<ecg>\n<ecg>\nECGs collected 1328 days ago, 0 days ago")


class _Fake(BaseHTTPRequestHandler):
    calls = 0

    def do_POST(self) -> None:
        _Fake.calls += 1
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert body["messages"][0]["content"].startswith("Rewrite")
        content = json.dumps({"question": "How did the rhythm evolve?", "answer": "It became AF."})
        reply = json.dumps({"choices": [{"message": {"content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args) -> None:
        pass


def test_rewrite_is_cached(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/v1"
    a = _unit("a", "p", "2001-01-01 00:00:00", ("Sinus rhythm",))
    b = _unit("b", "p", "2001-01-02 00:00:00", ("Atrial fibrillation",))
    sample = group_samples((a, b), source="src", same_patient=True, seed=0)[0]
    try:
        new = rewrite(sample, url, "m", tmp_path)
        again = rewrite(sample, url, "m", tmp_path)
    finally:
        server.shutdown()
    assert new is not None and new == again and _Fake.calls == 1
    assert new.question == "<ecg>\n<ecg>\nHow did the rhythm evolve?" and new.answer == "It became AF."
    assert new.meta["original_answer"] == sample.answer
    assert rewrite(sample, "http://127.0.0.1:9/v1", "other", tmp_path, timeout=2) is None  # unreachable


def test_comparison_answer_is_the_builders_format():
    text = comparison_answer([["Sinus rhythm"], ["Atrial fibrillation", "Right bundle branch block"]])
    assert text == ("ECG 1: Sinus rhythm. ECG 2: Atrial fibrillation; Right bundle branch block. "
                    "New in the last ECG: Atrial fibrillation, Right bundle branch block. "
                    "No longer present: Sinus rhythm.")
    assert comparison_answer([[], []], "conduction") == ("ECG 1: no conduction finding reported. ECG 2: no conduction "
                                                         "finding reported. No change in conduction between the first "
                                                         "and the last ECG.")
    assert "Heart rate rose from 60 to 90 bpm." in comparison_answer([["heart rate 60 bpm"], ["heart rate 90 bpm"]],
                                                                      "rate", [60, 90])
