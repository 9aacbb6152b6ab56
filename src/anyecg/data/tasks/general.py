"""Language-keeping turns (issue 14, item 3): ECG-free questions answered by the BASE SmolLM2 itself.

Training on ECG answers alone takes away the base model's ability to answer anything else; mixing in the base
model's own answers to ECG-free medical, cardiology and general questions keeps it. The questions below are written
for this purpose; "What does QTc mean?" is deliberately not among them (it is the check that the trained model
still answers such questions). Answers: the base SmolLM2 (`anyecg.model.llm.load_llm("smollm2")`), its chat
template, greedy, `max_new_tokens` 120, batches of 8 with left padding; an answer cut mid-sentence is trimmed to its
last full sentence. Samples: task `general`, no ECG (`ecgs: []`), one user turn and one assistant turn.

    python -m anyecg.data.tasks.general --out data/release3/general.jsonl
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Sequence
from pathlib import Path

from anyecg.data.schema import Sample, Turn, write_jsonl

# Cardiology knowledge (no ECG given)
CARDIOLOGY = (
    "What is a normal resting heart rate?",
    "What causes atrial fibrillation?",
    "Explain what an ECG lead is.",
    "What is the difference between a heart attack and cardiac arrest?",
    "What are the symptoms of a heart attack?",
    "How does the heart's electrical system work?",
    "What is the sinoatrial node?",
    "What does the atrioventricular node do?",
    "What is a bundle branch block?",
    "What is a premature ventricular contraction?",
    "Are premature atrial contractions dangerous?",
    "What is ventricular tachycardia?",
    "What is the difference between atrial fibrillation and atrial flutter?",
    "Why do patients with atrial fibrillation take blood thinners?",
    "What is a pacemaker and who needs one?",
    "What does an implantable cardioverter-defibrillator do?",
    "What is the PR interval on an electrocardiogram?",
    "What does the QRS complex represent?",
    "What does the T wave represent?",
    "What is the P wave?",
    "How many leads does a standard ECG have?",
    "What is a Holter monitor?",
    "How is a 12-lead ECG recorded?",
    "What is bradycardia?",
    "What is tachycardia?",
    "What is sinus arrhythmia, and is it normal?",
    "What is heart failure?",
    "What is the difference between systolic and diastolic blood pressure?",
    "What blood pressure is considered high?",
    "What is coronary artery disease?",
    "What causes chest pain besides the heart?",
    "What is angina?",
    "What is an echocardiogram?",
    "What is a stress test for the heart?",
    "What is cardiomyopathy?",
    "What is Wolff-Parkinson-White syndrome?",
    "What is long QT syndrome?",
    "What is a heart murmur?",
    "What does the left ventricle do?",
    "How does blood flow through the heart?",
    "What are the four chambers of the heart?",
    "What is myocarditis?",
    "What is pericarditis?",
    "What is an aortic aneurysm?",
    "What is the role of potassium in heart rhythm?",
    "What is a first degree AV block?",
    "What is complete heart block?",
    "What is supraventricular tachycardia?",
    "What is left ventricular hypertrophy?",
    "What is ST elevation, in simple terms?",
    "What is cardioversion?",
    "What is catheter ablation?",
    "What lifestyle changes lower the risk of heart disease?",
    "How does smoking affect the heart?",
    "Can stress cause heart palpitations?",
    "What are palpitations?",
    "What is an arrhythmia?",
    "What is sudden cardiac death?",
    "How does a defibrillator work?",
    "What is CPR and when should it be done?",
    "What is cholesterol and why does it matter for the heart?",
    "What is the difference between LDL and HDL cholesterol?",
    "What is atherosclerosis?",
    "What do beta blockers do?",
    "What are statins used for?",
    "What is a stent?",
    "What is coronary artery bypass surgery?",
    "What is an electrophysiology study?",
    "What is the difference between an ECG and an EEG?",
    "Why might a doctor order an ECG?",
    "Is a fast heart rate during exercise normal?",
    "What is a maximum heart rate, and how is it estimated?",
    "What is syncope?",
    "What is orthostatic hypotension?",
    "What is a pulmonary embolism?",
    "What is endocarditis?",
    "What is a congenital heart defect?",
    "What does cardiac output mean?",
    "What is an ejection fraction?",
    "What is troponin?",
    "What is a stroke, and how is it related to the heart?",
    "What is peripheral artery disease?",
    "How does caffeine affect the heart?",
    "Can dehydration affect heart rhythm?",
    "What is an athlete's heart?",
    "What is Brugada syndrome?",
    "What is hypertrophic cardiomyopathy?",
    "What is the role of the heart valves?",
    "What is mitral valve prolapse?",
    "What is aortic stenosis?",
)

# Other health questions
HEALTH = (
    "What are the symptoms of diabetes?",
    "What is the difference between type 1 and type 2 diabetes?",
    "How much water should an adult drink per day?",
    "What is a normal body temperature?",
    "What are the common symptoms of the flu?",
    "How do vaccines work?",
    "What is the difference between a virus and a bacterium?",
    "Why are antibiotics not used for viral infections?",
    "What is anemia?",
    "What is asthma?",
    "How much sleep does an adult need?",
    "What are the benefits of regular exercise?",
    "What is a healthy body mass index?",
    "What is hypothyroidism?",
    "What are the warning signs of a stroke?",
    "What is chronic obstructive pulmonary disease?",
    "What does the kidney do?",
    "What is an allergy?",
    "What is osteoporosis?",
    "How can I reduce the amount of salt in my diet?",
    "What is the function of red blood cells?",
    "What is blood oxygen saturation?",
    "What causes a headache?",
    "What is dehydration and what are its signs?",
    "What is the difference between a sprain and a strain?",
    "What is a migraine?",
    "How does the immune system fight infection?",
    "What is inflammation?",
    "What are electrolytes?",
    "What is sleep apnea?",
    "How does alcohol affect the body?",
    "What is a balanced diet?",
    "What is the liver's role in the body?",
    "What is high blood sugar?",
    "What are the symptoms of anxiety?",
    "What is the purpose of a blood test?",
    "What is an MRI scan?",
    "What is the difference between an X-ray and a CT scan?",
    "How should a minor burn be treated?",
    "What are the signs of an allergic reaction that need emergency care?",
)

# General questions
GENERAL = (
    "What is the capital of France?",
    "Explain photosynthesis in simple terms.",
    "What is the speed of light?",
    "How many days are there in a leap year?",
    "What is the largest planet in the solar system?",
    "Give me three tips for writing a clear email.",
    "What is the boiling point of water at sea level?",
    "Explain what a computer algorithm is.",
    "What is the difference between weather and climate?",
    "Summarize what the water cycle is.",
    "What is machine learning?",
    "How do I convert Celsius to Fahrenheit?",
    "What is gravity?",
    "Name three renewable sources of energy.",
    "What is the Pythagorean theorem?",
    "Write a short, friendly greeting for a new colleague.",
    "What is DNA?",
    "Why is the sky blue?",
    "What is an electric current?",
    "How many continents are there?",
)

QUESTIONS: tuple[str, ...] = CARDIOLOGY + HEALTH + GENERAL
CHECK_QUESTION = "What does QTc mean?"  # never trained on: the check that the language stays
MAX_NEW_TOKENS, BATCH = 120, 8
# a sentence end: . ! or ?, maybe closed by a quote or bracket, then space or the end of the text
_SENTENCE_END = re.compile(r"(?<!\s)[.!?][\"')\]*]*(?=\s|$)")
_LIST_NUMBER = re.compile(r"(^|\n)\s*\d+$")  # "2." opening a list item is not a sentence end


def trim_to_sentence(text: str) -> str:
    """The text up to its last full sentence: whole when it ends one, '' when it has none."""
    text = text.strip()
    ends = [m for m in _SENTENCE_END.finditer(text) if not _LIST_NUMBER.search(text[:m.start()])]
    return text[:ends[-1].end()].strip() if ends else ""


def answer_all(questions: Sequence[str], *, llm: str = "smollm2", max_new_tokens: int = MAX_NEW_TOKENS,
               batch: int = BATCH, log=print) -> list[str]:
    """The base LLM's greedy answers (chat template, left-padded batches)."""
    import torch

    from anyecg.model.llm import load_llm

    model, tokenizer = load_llm(llm)
    model.eval()
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    answers: list[str] = []
    t0 = time.time()
    for i in range(0, len(questions), batch):
        chunk = questions[i:i + batch]
        prompts = [tokenizer.apply_chat_template([{"role": "user", "content": q}], tokenize=False,
                                                 add_generation_prompt=True) for q in chunk]
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
        new = out[:, enc["input_ids"].shape[1]:]
        answers += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
        log(f"{len(answers)}/{len(questions)} answered ({time.time() - t0:.0f} s)")
    return answers


def general_samples(questions: Sequence[str], answers: Sequence[str]) -> list[Sample]:
    """One `general` sample per answered question (no ECG); empty answers are left out."""
    out = []
    for i, (q, a) in enumerate(zip(questions, answers, strict=True)):
        a = trim_to_sentence(a)
        if a:
            out.append(Sample(f"general-{i:04d}", "general", "smollm2-base", "train", (),
                              (Turn("user", q), Turn("assistant", a)), {"answered_by": "smollm2 base, greedy"}))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--llm", default="smollm2")
    p.add_argument("--limit", type=int, help="only the first N questions (a quick look)")
    args = p.parse_args(argv)
    questions = QUESTIONS[:args.limit] if args.limit else QUESTIONS
    samples = general_samples(questions, answer_all(questions, llm=args.llm))
    n = write_jsonl(args.out, samples)
    print(f"{n} general samples → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
