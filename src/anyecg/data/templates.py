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

# Question-set phrasings per question type (`anyecg.data.questions`): `{X}` is a vocabulary statement name in
# lower case ("left bundle branch block"), `{W}` a WFDB beat description (localization), `{P}` its plural.
QUESTIONS: dict[str, tuple[str, ...]] = {
    "heart_rate": ("What is the heart rate?", "What is the heart rate on this ECG?",
                   "How fast is the heart beating in this recording?", "Give the ventricular rate in bpm.",
                   "Estimate the heart rate of this ECG."),
    "rhythm": ("What is the rhythm?", "What is the cardiac rhythm on this ECG?", "Which rhythm does this ECG show?",
               "Identify the underlying rhythm.", "Describe the rhythm of this recording."),
    "regularity": ("Is the rhythm regular?", "Is the rhythm irregular?", "Are the R-R intervals regular?",
                   "Is the heartbeat regular or irregular on this ECG?"),
    "af": ("Is there atrial fibrillation?", "Does this ECG show atrial fibrillation?",
           "Is the patient in atrial fibrillation?", "Any sign of AF on this recording?"),
    "pr": ("What is the PR interval?", "How long is the PR interval in ms?", "Measure the PR interval."),
    "qrs": ("What is the QRS duration?", "How wide is the QRS complex in ms?", "Measure the QRS duration."),
    "qt": ("What is the QT interval?", "How long is the QT interval in ms?", "Measure the QT interval."),
    "axis": ("What is the electrical axis?", "Is the QRS axis normal, deviated left or deviated right?",
             "Describe the heart's electrical axis on this ECG."),
    "conduction": ("Is there a {X}?", "Does this ECG show a {X}?", "Do you see signs of {X}?",
                   "Is a {X} present on this ECG?"),
    "ectopy": ("Are there {X}s?", "Does this ECG show any {X}s?", "Do you see {X}s on this recording?",
               "Is there at least one {X}?"),
    "ectopy_count": ("How many {X}s are there?", "Count the {X}s on this ECG.",
                     "How many {X}s does this recording contain?"),
    "compare_rhythm": ("Did the rhythm change from the first ECG to the second?",
                       "Is the rhythm of the second ECG different from the first?",
                       "Compare the two ECGs: has the rhythm changed?"),
    "compare_rate": ("Is the heart rate of the second ECG faster, slower or about the same as the first?",
                     "Compared with the first ECG, how has the heart rate changed in the second?",
                     "Has the rate gone up, down or stayed the same between these two ECGs?"),
    "compare_new": ("What finding is new in the second ECG compared with the first?",
                    "What changed between these two ECGs: which finding appeared?",
                    "Which abnormality does the second ECG show that the first does not?"),
    "compare_resolved": ("Which finding of the first ECG is no longer present in the second?",
                         "What changed between these two ECGs: which finding resolved?",
                         "Which abnormality of the first ECG has gone in the second?"),
}
