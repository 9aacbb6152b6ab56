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
                            r"does an? |\bdifference between\b|^\s*what causes\b|\bexplain\b|\bstands? for\b",
                            re.IGNORECASE)
_ABOUT_THIS_ECG = re.compile(r"\b(?:this|these|here|the (?:ecg|ekg|recording|tracing|strip|patient)s?|ecgs|"
                             r"(?:first|second|third|last|both|two|earlier|later) (?:ecgs?|ekgs?|ones?|recordings?))\b",
                             re.IGNORECASE)
# Words of a question about an ECG or the heart, and words that refer back to the conversation ("Are you sure?",
# "Why?"): a question with neither asks nothing of the ECG beside it ("How many hours are there in a day?").
_ECG_WORDS = re.compile(r"\b(?:ecgs?|ekgs?|electrocardio\w*|heart\w*|cardi\w*|rhythm\w*|rates?|beats?|bpm|waves?|"
                        r"intervals?|segments?|qrs|qtc?|pr|rr|st|leads?|axis|sinus|atri\w*|ventric\w*|blocks?|normal|"
                        r"abnormal\w*|findings?|reports?|record\w*|strips?|tracing|signal|duration|episodes?|chang\w*|"
                        r"compar\w*|differen\w*|first|second|third|both|patient|diagnos\w*|interpret\w*|locate|where|"
                        r"when|seconds?)\b", re.IGNORECASE)
_REFERS_BACK = re.compile(r"\b(?:it|its|this|that|these|those|they|them|one|ones|you|your|sure|again|else|also|more|why|"
                          r"above|earlier|before|after)\b", re.IGNORECASE)


def is_general_question(question: str) -> bool:
    """Whether a question asks for general knowledge rather than about the ECG beside it ("What does QTc mean?",
    "What is a normal PR interval?", "Why is the QT interval important?"): its answer is not checked against the
    ECG's read (a textbook QT of 400 ms is no claim about this ECG)."""
    q = without_placeholders(question).strip()
    return bool(_GENERAL_ASKED.search(q)) and not _ABOUT_THIS_ECG.search(q)


def is_ecg_free_question(question: str) -> bool:
    """Whether a question has nothing to do with the ECG beside it or the conversation so far ("What is the tallest
    mountain in the world?"): no word of ECGs or the heart, none that refers back. Such a question goes to the base
    LLM alone (`anyecg.chat.ECGChat.general_answer`)."""
    q = without_placeholders(question)
    return not _ECG_WORDS.search(q) and not _REFERS_BACK.search(q)


def asks_nothing_of_the_ecg(question: str) -> bool:
    """A general-knowledge or ECG-free question: answered without the ECG, its answer not checked against it."""
    return is_general_question(question) or is_ecg_free_question(question)


def ecgs_first(content: str, n_ecgs: int, sep: str = "") -> str:
    """A user turn's text with `n_ecgs` placeholders before it (joined by `sep`: the data builders write one per
    line); unchanged when it already holds placeholders."""
    if ECG_PLACEHOLDER in content or n_ecgs == 0:
        return content
    return sep.join([ECG_PLACEHOLDER] * n_ecgs + [content]) if sep else ECG_PLACEHOLDER * n_ecgs + content


def without_placeholders(text: str) -> str:
    """A turn's text with its ECG placeholders removed."""
    return text.replace(ECG_PLACEHOLDER, "")
