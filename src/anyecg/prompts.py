"""How ECGs and questions are written in a conversation: defined once here (data, model, chat, eval, server).

- `ECG_PLACEHOLDER`: each ECG of a user turn is written `<ecg>`; the processor expands it to the ECG's tokens.
- "ECGs go first" (`ecgs_first`): the model was trained with every ECG at the start of the first user turn, so a
  conversation without placeholders gets them there, in order.
- The questions the front ends ask (`REPORT_QUESTION`, `LOCATE_QUESTION`: the paper's evaluation prompt and its
  first localization template, `anyecg.data.templates`).
"""

from __future__ import annotations

import re

ECG_PLACEHOLDER = "<ecg>"
REPORT_QUESTION = "Please provide the report for the following ECG."  # the paper's evaluation prompt
# Decoding of a report (a list of statements): release 5 greedily loops on some windows ("Sinus tachycardia, Sinus
# tachypnea, Sinus tachycardia, ..." on the demo's 140-150 s); `report` and the report evaluation both use this.
REPORT_SAMPLING = {"repetition_penalty": 1.2}
LOCATE_QUESTION = "Locate the {X} on this ECG for me, please."  # the paper's first localization template


_REPORT_ASKED = re.compile(r"\breport\b|\binterpret|\bdescribe (?:this|the) (?:ecg|ekg|recording|tracing)\b|\bwhat does "
                           r"(?:this|the) (?:ecg|ekg|recording|tracing) show\b", re.IGNORECASE)


def is_report_question(question: str) -> bool:
    """Whether a question asks for the ECG's report (the paper's prompt, "Interpret this ECG", "What does this ECG
    show?"): an answer to it should name what the read finds (`anyecg.checks.omission_checks`)."""
    return bool(_REPORT_ASKED.search(without_placeholders(question)))


_GENERAL_ASKED = re.compile(r"\bmeans?\b|\brepresents?\b|\bdefin|\bimportant\b|\b(?:a|the) normal\b(?! (?:ecg|ekg|rhythm|"
                            r"axis|sinus)\b)|^\s*why\b|^\s*what (?:is|are) (?!the\b|this\b|these\b|there\b)|^\s*what "
                            r"does an? ", re.IGNORECASE)
_ABOUT_THIS_ECG = re.compile(r"\b(?:this|these|here|the (?:ecg|ekg|recording|tracing|strip|patient)s?)\b", re.IGNORECASE)


def is_general_question(question: str) -> bool:
    """Whether a question asks for general knowledge rather than about the ECG beside it ("What does QTc mean?",
    "What is a normal PR interval?", "Why is the QT interval important?"): its answer is not checked against the
    ECG's read (a textbook QT of 400 ms is no claim about this ECG)."""
    q = without_placeholders(question).strip()
    return bool(_GENERAL_ASKED.search(q)) and not _ABOUT_THIS_ECG.search(q)


def ecgs_first(content: str, n_ecgs: int, sep: str = "") -> str:
    """A user turn's text with `n_ecgs` placeholders before it (joined by `sep`: the data builders write one per
    line); unchanged when it already holds placeholders."""
    if ECG_PLACEHOLDER in content or n_ecgs == 0:
        return content
    return sep.join([ECG_PLACEHOLDER] * n_ecgs + [content]) if sep else ECG_PLACEHOLDER * n_ecgs + content


def without_placeholders(text: str) -> str:
    """A turn's text with its ECG placeholders removed."""
    return text.replace(ECG_PLACEHOLDER, "")
