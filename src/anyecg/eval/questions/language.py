"""Does the chat model still speak? ECG-free questions it was never trained on ("What does QTc mean?" first), asked
beside a held-out ECG as a user would in `anyecg chat`, graded by the words a sensible answer must hold, beside the
base SmolLM2 asked the same questions alone.

    python -m anyecg.eval.questions.language --model runs/release3/final \
        --ecg ../shared/data/ludb/data/121 --out docs/results/language.md

The training turns that keep the language (`anyecg.data.tasks.general`) hold none of these questions (a test checks).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from anyecg.atomic import write_atomic

# (question, word groups: a sensible answer holds a word of every group, case-insensitive, as a word start)
Questions = tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]
LANGUAGE_QUESTIONS: Questions = (
    ("What does QTc mean?", (("corrected", "correction", "adjusted"), ("qt",))),
    ("What does the ST segment represent?", (("ventric", "heart"), ("repolari", "depolari", "between", "contract",
                                                                    "relax"))),
    ("What is atrial flutter?", (("atri",), ("rhythm", "arrhythmi", "heart"))),
    ("What is a normal PR interval?", (("120", "200", "0.12", "0.2", "ms", "millisecond", "second"),)),
    ("What does an ECG record?", (("electric",),)),
    ("What is an ectopic beat?", (("beat", "heartbeat"), ("early", "premature", "extra", "abnormal", "outside",
                                                          "irregular"))),
    ("Why is the QT interval important?", (("arrhythmi", "rhythm", "heart", "ventric", "cardiac"),)),
    ("What is hyperkalemia?", (("potassium",),)),
    ("What is the normal heart rate of a newborn baby?", (("bpm", "beats", "minute"),)),
    ("What is the tallest mountain in the world?", (("everest",),)),
    ("How many hours are there in a day?", (("24", "twenty-four"),)),
    ("What organ pumps blood through the body?", (("heart",),)),
)
# Written at stop 28, after the glossary (`anyecg.glossary`) and the routing of general questions were made with the
# first set in view: a check of their reach on other terms and wordings, not a held-out test.
LATER_QUESTIONS: Questions = (
    ("What is a delta wave?", (("pre-excit", "preexcit", "wolff", "accessory", "pathway"),)),
    ("What does LVH stand for?", (("left ventricular hypertrophy",),)),
    ("What is a normal QRS duration?", (("120", "100", "80", "ms", "millisecond", "0.12"),)),
    ("Can you explain what a U wave is?", (("repolari", "potassium", "hypokal"),)),
    ("What is Mobitz type II?", (("block",), ("drop", "not followed", "conduct"))),
    ("What is torsades de pointes?", (("ventric", "tachycardia", "arrhythmi"),)),
    ("What is the difference between a PAC and a PVC?", (("atri",), ("ventric",))),
    ("What causes a wide QRS complex?", (("bundle", "ventric", "pac", "conduct"),)),
    ("What is the boiling point of water at sea level?", (("100", "212"),)),
    ("Who wrote Romeo and Juliet?", (("shakespeare",),)),
    ("What is the largest planet in the solar system?", (("jupiter",),)),
    ("What gas do plants take in from the air?", (("carbon dioxide", "co2"),)),
)
SETS = {"first": LANGUAGE_QUESTIONS, "later": LATER_QUESTIONS}
MIN_WORDS = 4
_NOT_LANGUAGE = re.compile(r"^\s*(Duration:|No .* Found|Report:)", re.IGNORECASE)


def sensible(answer: str, groups: tuple[tuple[str, ...], ...]) -> bool:
    """An answer in words (not a localization or report format) holding a word of every group."""
    if _NOT_LANGUAGE.match(answer) or len(answer.split()) < MIN_WORDS:
        return False
    low = answer.lower()
    return all(any(re.search(rf"\b{re.escape(w)}", low) for w in group) for group in groups)


def run(model: str | None, ecg: Path, questions: Questions = LANGUAGE_QUESTIONS,
        max_new_tokens: int = 96) -> dict[str, list[tuple[str, bool]]]:
    """Answers and verdicts: the chat model (with the ECG) and the base LLM (question alone)."""
    from anyecg.chat import ECGChat
    from anyecg.eval.questions.answerers import BaseLLMAnswerer
    from anyecg.eval.samples import EvalSample

    chat = ECGChat.load(model, max_new_tokens=max_new_tokens)
    mine = [chat.ask(ecg, q).text for q, _ in questions]
    base = BaseLLMAnswerer(max_new_tokens=max_new_tokens)
    fake = [EvalSample(id=f"lang-{i}", task="chat", dataset="", ecgs=(), prompt=({"role": "user", "content": q},),
                       truth="") for i, (q, _) in enumerate(questions)]
    theirs = base.predict(fake)
    return {name: [(a, sensible(a, groups)) for a, (_, groups) in zip(answers, questions, strict=True)]
            for name, answers in ((f"chat model ({model or 'embedded'}, with the ECG)", mine),
                                  ("base SmolLM2 (no ECG)", theirs))}


def markdown(results: dict[str, list[tuple[str, bool]]], command: str, ecg: Path,
             questions: Questions = LANGUAGE_QUESTIONS) -> str:
    names = list(results)
    lines = ["# Language check: ECG-free questions never trained on", "", "Made by:", "", "```", command, "```", "",
             f"Each question is asked of the chat model beside the ECG `{ecg.name}` (held out) and of the base LLM "
             "alone; an answer is sensible when it is written in words (not a `Duration:`/`Report:` format) and "
             "holds a word of every group listed in `anyecg.eval.questions.language` (`LANGUAGE_QUESTIONS`, "
             "`LATER_QUESTIONS`).", "",
             "| question | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for k, (q, _) in enumerate(questions):
        cells = [f"{'yes' if ok else 'no'}: {_cell(a)}" for a, ok in (results[n][k] for n in names)]
        lines.append(f"| {q} | " + " | ".join(cells) + " |")
    lines.append("| **sensible** | " + " | ".join(
        f"**{sum(ok for _, ok in results[n])} / {len(questions)}**" for n in names) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(text.split()).replace("|", "/")
    return text if len(text) <= limit else text[:limit] + "…"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="checkpoint directory (default: the embedded model)")
    p.add_argument("--ecg", type=Path, required=True, help="a held-out ECG to ask beside")
    p.add_argument("--questions", choices=sorted(SETS), default="first",
                   help="first: the check's own questions; later: written after the glossary (its reach)")
    p.add_argument("--out", type=Path, default=Path("docs/results/language.md"))
    args = p.parse_args(argv)
    questions = SETS[args.questions]
    results = run(args.model, args.ecg, questions)
    write_atomic(args.out, markdown(results, "python -m anyecg.eval.questions.language " + " ".join(
        sys.argv[1:] if argv is None else argv), args.ecg, questions))
    for name, rows in results.items():
        print(f"{name}: {sum(ok for _, ok in rows)} / {len(rows)} sensible")
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
