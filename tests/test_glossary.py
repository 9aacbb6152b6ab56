"""The glossary that textbook questions about ECG terms are answered from (`anyecg.glossary`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anyecg.data import templates
from anyecg.data.tasks.general import GENERAL
from anyecg.glossary import _ENTRIES, GLOSSARY, lookup
from anyecg.prompts import is_ecg_free_question, is_general_question
from anyecg.vocabulary import STATEMENTS

QUESTION_SET = Path(__file__).parents[1] / "src" / "anyecg" / "eval" / "questions" / "questions_v2.jsonl"


def test_terms_name_one_entry_each_and_statements_use_the_vocabularys_names() -> None:
    terms = [t.lower() for e in _ENTRIES for t in (e.name, *e.aliases)]
    assert len(terms) == len(set(terms)) and len(GLOSSARY) == len(_ENTRIES)
    statement_like = {n.lower(): n for n in STATEMENTS}
    for e in _ENTRIES:  # an entry named like a statement is named exactly as the vocabulary names it
        assert e.name == statement_like.get(e.name.lower(), e.name)
        assert e.text.endswith(".") and len(e.text.split()) >= 15


@pytest.mark.parametrize(("question", "names"), [
    ("What does QTc mean?", ["QTc"]), ("Why is the QT interval important?", ["QT interval"]),
    ("What is atrial flutter?", ["Atrial flutter"]), ("What is AFib?", ["Atrial fibrillation"]),
    ("What are PVCs?", ["Premature ventricular contraction"]), ("Define LBBB.", ["Left bundle branch block"]),
    ("How do AF and atrial flutter differ in AF?", ["Atrial fibrillation", "Atrial flutter"]),
    ("What is a nonspecific ST-T change?", []), ("What is the tallest mountain in the world?", [])])
def test_lookup_finds_the_longest_terms_a_question_names_in_its_order(question: str, names: list[str]) -> None:
    assert [e.name for e in lookup(question)] == names


@pytest.mark.parametrize(("question", "free"), [
    ("How many hours are there in a day?", True), ("What is the capital of France?", True),
    ("Are you sure?", False), ("Why?", False), ("And the second one?", False), ("What is the rate?", False),
    ("Any abnormality?", False), ("Where are the PVCs?", False)])
def test_questions_that_ask_nothing_of_the_ecg_or_the_conversation(question: str, free: bool) -> None:
    assert is_ecg_free_question(question) is free


def test_no_question_about_an_ecg_is_taken_for_a_general_one() -> None:
    """Every question of the committed question set and every training template stays with the chat model."""
    asked = [t["content"] for line in QUESTION_SET.read_text().splitlines()
             for t in json.loads(line)["conversation"] if t["role"] == "user"]
    asked += [q for v in vars(templates).values() if isinstance(v, tuple | list) for q in v if isinstance(q, str)]
    assert len(asked) > 300
    assert [q for q in asked if is_general_question(q) or is_ecg_free_question(q)] == []
    assert all(is_general_question(q) or is_ecg_free_question(q) for q in GENERAL)  # ECG-free training questions
