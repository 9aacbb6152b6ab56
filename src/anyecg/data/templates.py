"""Question templates. `{X}` is the target's description (wfdb's beat description, a rhythm or an ST episode)."""

from __future__ import annotations

from anyecg.prompts import LOCATE_QUESTION, REPORT_QUESTION

# The paper's localization templates (official anyECG-chat samples, reference §4). The official list glues two
# of them together by a missing comma ("...of the {X}.Where does..."); we use the 19 intended ones.
LOCALIZATION: tuple[str, ...] = (
    LOCATE_QUESTION,
    "Could you identify where the {X} is on this ECG?",
    "Where should I look to find the {X} on this ECG?",
    "Please locate the specific location of the {X} on this ECG.",
    "Determine where the {X} is on this electrocardiogram.",
    "On this ECG, where can I see the {X}?",
    "Tell me where to find the {X} on this ECG.",
    "Help me locate the {X} on this ECG.",
    "Help me find where the {X} shows up on this ECG.",
    "Can you locate the {X} on this ECG?",
    "Determine where the {X} is located on this electrocardiogram.",
    "Examine this ECG and point out where the {X} is located.",
    "Where is the {X} located in this ECG?",
    "Could you point out where the {X} is on this ECG?",
    "I need to find the {X} on this ECG; where should I look?",
    "Can you show me where the {X} occurred on this ECG?",
    "Check this ECG and tell me where the {X} appears.",
    "Assess this ECG and specify the location of the {X}.",
    "Where does the {X} appear in this ECG?",
)

# Report requests (the first two are the official stage-1 phrasings; the third is the evaluation prompt).
REPORT: tuple[str, ...] = (
    "May I have the official report for the ECG provided?",
    "Give me a detailed report on this ECG.",
    REPORT_QUESTION,
    "Write the report for this ECG.",
    "What does this ECG show? Answer as a report.",
    "Could you interpret this ECG and write a report?",
    "Summarize the findings of this electrocardiogram.",
    "Generate a clinical ECG report for this recording.",
)

# MultiECG change questions per aspect; `{gaps}` = "ECGs collected 1323 days ago, 0 days ago".
MULTIECG: dict[str, tuple[str, ...]] = {
    "rhythm": ("{gaps}: how has the rhythm changed?",
               "{gaps}. Compare the cardiac rhythm across these ECGs.",
               "{gaps}. Did the rhythm change between these recordings?"),
    "rate": ("{gaps}: how has the heart rate changed?",
             "{gaps}. Compare the heart rate of these ECGs.",
             "{gaps}. Is there a change in rate between these ECGs?"),
    "conduction": ("{gaps}: how has conduction changed?",
                   "{gaps}. Compare the conduction findings (blocks, intervals) across these ECGs.",
                   "{gaps}. Did any conduction abnormality appear or resolve?"),
    "ectopy": ("{gaps}: how has ectopy changed?",
               "{gaps}. Compare the ectopic beats seen in these ECGs.",
               "{gaps}. Are premature beats new, persistent or resolved?"),
    "st": ("{gaps}: how have the ST segments and T waves changed?",
           "{gaps}. Compare the ST-T findings of these ECGs.",
           "{gaps}. Did any ST or T wave abnormality appear or resolve?"),
    "overall": ("{gaps}: what are the key findings of each ECG?",
                "{gaps}. Summarize each ECG and what changed.",
                "{gaps}. How has this patient's ECG changed over time?"),
}

ECGQA_SUFFIX = " Please answer briefly."
