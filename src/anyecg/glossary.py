"""A glossary of ECG terms: what textbook questions ("What does QTc mean?", "What is a bundle branch block?") are
answered from, written for anyecg.

The embedded LLM (SmolLM2-135M) does not know electrocardiography: asked "What does QTc mean?" the base model says
"Quantum Computing", and given a definition to reword it mixes in errors of its own. So a question that asks what an
ECG term is (`anyecg.prompts.is_general_question`) and names a term below is answered with the term's entry, word for
word (each term's, where it names several); other general questions go to the base LLM
(`ECGChat.general_answer`). Entry names that are statements are the names of `anyecg.vocabulary.STATEMENTS` (a
test checks). Normal ranges are adult resting values as usually taught
(e.g. AHA/ACCF/HRS recommendations for the standardization and interpretation of the ECG, 2007-2009).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    name: str
    aliases: tuple[str, ...]  # other ways to write the term (matched as whole words, case-insensitive)
    text: str


_ENTRIES: tuple[Entry, ...] = (
    # the recording
    Entry("Electrocardiogram", ("ECG", "EKG", "electrocardiography"),
          "An electrocardiogram (ECG) records the electrical activity of the heart from electrodes on the skin: each "
          "heartbeat shows as a P wave (the atria depolarizing), a QRS complex (the ventricles depolarizing) and a T "
          "wave (the ventricles repolarizing). It shows the heart rate and rhythm, conduction delays, enlarged "
          "chambers, ischemia and infarction."),
    Entry("Lead", ("leads", "12-lead", "12 lead", "lead placement", "limb leads", "precordial leads"),
          "A lead is one view of the heart's electrical activity: the voltage between electrodes (or an electrode and "
          "a reference). A standard 12-lead ECG has six limb leads (I, II, III, aVR, aVL, aVF: the frontal plane) and "
          "six precordial leads (V1-V6: the horizontal plane), recorded from ten electrodes."),
    Entry("Holter monitor", ("Holter", "ambulatory ECG"),
          "A Holter monitor records one to three ECG channels continuously for 24 hours or longer while the patient "
          "goes about daily life, to catch arrhythmias and pauses that a 10-second ECG misses and to count ectopic "
          "beats and measure atrial fibrillation burden."),
    # waves, intervals, segments
    Entry("P wave", ("p-wave", "p waves"),
          "The P wave is the first deflection of each beat: depolarization of the atria. In sinus rhythm it is upright "
          "in leads I and II and lasts less than 120 ms; absent P waves suggest atrial fibrillation or a junctional "
          "rhythm."),
    Entry("QRS complex", ("QRS", "qrs complexes", "QRS duration", "QRS width"),
          "The QRS complex is depolarization of the ventricles. A normal QRS lasts less than 120 ms (usually 80-100 "
          "ms); a QRS of 120 ms or more means slowed ventricular conduction, as in a bundle branch block, a "
          "ventricular beat or a paced beat."),
    Entry("T wave", ("t-wave", "t waves"),
          "The T wave is repolarization of the ventricles, the recovery after each contraction. It is normally upright "
          "where the QRS is upright; inverted or flat T waves can mean ischemia, strain or electrolyte changes, and "
          "tall peaked T waves hyperkalemia."),
    Entry("U wave", ("u-wave", "u waves"),
          "The U wave is a small wave after the T wave, best seen in V2-V3, probably late repolarization; prominent U "
          "waves suggest hypokalemia or some drugs."),
    Entry("PR interval", ("PR", "p-r interval", "pr intervals"),
          "The PR interval runs from the start of the P wave to the start of the QRS complex: the time the impulse "
          "takes from the atria through the AV node to the ventricles. Normal is 120-200 ms (0.12-0.20 s); longer "
          "than 200 ms is first degree AV block, shorter than 120 ms suggests pre-excitation."),
    Entry("QT interval", ("QT", "q-t interval", "qt intervals"),
          "The QT interval runs from the start of the QRS complex to the end of the T wave: the time the ventricles "
          "take to depolarize and repolarize. It shortens as the heart rate rises, so it is judged as QTc (corrected "
          "for heart rate). A long QT interval raises the risk of dangerous ventricular arrhythmias such as torsades "
          "de pointes and sudden cardiac death; drugs, electrolytes and inherited channel diseases can prolong it."),
    Entry("QTc", ("corrected QT", "QTc interval", "qt corrected", "Bazett", "Fridericia"),
          "QTc is the QT interval corrected for heart rate, so that QT intervals measured at different heart rates "
          "can be compared. Bazett's formula divides the QT by the square root of the RR interval in seconds, "
          "Fridericia's by its cube root. A QTc above about 450 ms in men or 460 ms in women is prolonged, and above "
          "500 ms markedly raises the risk of ventricular arrhythmias."),
    Entry("RR interval", ("RR", "r-r interval", "rr intervals", "beat-to-beat interval"),
          "The RR interval is the time between two successive R waves (two heartbeats). The heart rate in beats per "
          "minute is 60 divided by the RR interval in seconds; the variation of RR intervals shows whether the "
          "rhythm is regular."),
    Entry("ST segment", ("ST", "st-segment", "st segments", "J point"),
          "The ST segment runs from the end of the QRS complex (the J point) to the start of the T wave: the time "
          "between ventricular depolarization and repolarization, when the ventricles are contracting and normally "
          "at one potential, so it is flat at the baseline. ST elevation or depression, measured at or 60-80 ms "
          "after the J point, can mean myocardial injury or ischemia."),
    Entry("Heart rate", ("rate", "heart rates", "pulse rate", "bpm", "beats per minute"),
          "The heart rate is the number of heartbeats per minute (bpm), on an ECG 60 divided by the RR interval in "
          "seconds. A normal resting adult rate is 60-100 bpm; below 60 is bradycardia, above 100 tachycardia. "
          "Children's rates are higher: a newborn's is about 100-160 bpm (up to 180 when crying)."),
    Entry("Electrical axis", ("axis", "QRS axis", "cardiac axis", "heart axis", "frontal axis"),
          "The electrical axis is the mean direction of ventricular depolarization in the frontal plane, from the "
          "QRS in the limb leads. Normal is about -30 to +90 degrees; more negative is left axis deviation, beyond "
          "+90 (or +100) right axis deviation."),
    # the conduction system
    Entry("Sinus node", ("sinoatrial node", "SA node", "sinus"),
          "The sinus (sinoatrial) node in the right atrium is the heart's natural pacemaker: each normal beat starts "
          "there, giving sinus rhythm."),
    Entry("AV node", ("atrioventricular node", "A-V node"),
          "The atrioventricular (AV) node conducts the impulse from the atria to the ventricles and delays it, which "
          "gives the PR interval; it also protects the ventricles from very fast atrial rhythms."),
    # rhythms
    Entry("Sinus rhythm", ("normal sinus rhythm", "NSR"),
          "Sinus rhythm is the normal rhythm of the heart: each beat starts in the sinus node, so every QRS complex "
          "follows an upright P wave (in lead II) at a steady PR interval, at 60-100 bpm at rest."),
    Entry("Sinus bradycardia", ("bradycardia", "slow heart rate"),
          "Bradycardia is a heart rate below 60 bpm; sinus bradycardia is sinus rhythm below 60 bpm. It is normal in "
          "athletes and during sleep; otherwise drugs, an underactive thyroid or sinus node disease can cause it."),
    Entry("Sinus tachycardia", ("tachycardia", "fast heart rate"),
          "Tachycardia is a heart rate above 100 bpm; sinus tachycardia is sinus rhythm above 100 bpm, the normal "
          "response to exercise, fever, pain, anxiety, blood loss or an overactive thyroid."),
    Entry("Sinus arrhythmia", ("respiratory sinus arrhythmia",),
          "Sinus arrhythmia is sinus rhythm whose rate rises and falls with breathing (faster on breathing in). It is "
          "normal, especially in the young."),
    Entry("Atrial fibrillation", ("AF", "AFib", "A-fib", "atrial fibrillations"),
          "Atrial fibrillation is an irregular heart rhythm in which the atria quiver chaotically instead of "
          "contracting: on the ECG there are no P waves and the RR intervals are irregularly irregular. It raises "
          "the risk of stroke (blood clots form in the atria), which is why patients often take anticoagulants."),
    Entry("Atrial flutter", ("AFL", "flutter"),
          "Atrial flutter is a fast regular atrial rhythm (about 250-350 per minute) driven by a circuit re-entering "
          "in the atria, usually around the tricuspid valve: the ECG shows sawtooth flutter waves, best in II, III "
          "and aVF, and the ventricles often follow every second wave (about 150 bpm). Like atrial fibrillation it "
          "raises the risk of stroke."),
    Entry("Supraventricular tachycardia", ("SVT", "supraventricular tachycardias", "PSVT"),
          "Supraventricular tachycardia (SVT) is a fast rhythm (usually 150-250 bpm) that starts above the "
          "ventricles, in the atria or the AV node; the QRS complexes are usually narrow. On a Holter, a run of three "
          "or more premature atrial beats counts as SVT."),
    Entry("Ventricular tachycardia", ("VT", "V-tach", "ventricular tachycardias"),
          "Ventricular tachycardia (VT) is a fast rhythm of three or more beats in a row from the ventricles, with "
          "wide QRS complexes, usually above 100 bpm. Sustained VT (30 s or longer) can cause collapse or turn into "
          "ventricular fibrillation and needs urgent treatment."),
    Entry("Ventricular fibrillation", ("VF", "V-fib"),
          "Ventricular fibrillation is chaotic electrical activity of the ventricles with no effective contraction: "
          "cardiac arrest. The ECG shows irregular waves without QRS complexes; it needs immediate defibrillation."),
    Entry("Junctional rhythm", ("junctional", "nodal rhythm"),
          "A junctional rhythm starts in the AV junction instead of the sinus node: narrow QRS complexes at 40-60 "
          "bpm with no P waves before them (or inverted P waves close to the QRS)."),
    Entry("Pacing rhythm", ("paced rhythm", "pacemaker", "paced beat", "pacing"),
          "A pacemaker is a device that sends electrical impulses to the heart when its own rhythm is too slow or "
          "blocked. Paced beats show a sharp pacing spike before the P wave or a wide QRS complex."),
    Entry("Pause", ("pauses", "sinus pause", "sinus arrest"),
          "A pause is a gap without a heartbeat; on a Holter, gaps of 2 seconds or more are usually reported, and "
          "pauses above 3 seconds may cause dizziness or fainting and may need a pacemaker."),
    # ectopy
    Entry("Ectopic beat", ("ectopic beats", "ectopy", "extrasystole", "extra beat", "premature beat",
                           "premature complexes"),
          "An ectopic beat is a heartbeat that starts outside the sinus node, usually earlier than expected "
          "(premature): a premature atrial contraction (PAC) starts in the atria, a premature ventricular "
          "contraction (PVC) in the ventricles. Occasional ectopic beats are common and usually harmless."),
    Entry("Premature atrial contraction", ("PAC", "PACs", "APC", "atrial premature beat", "atrial premature complex",
                                           "premature atrial contractions"),
          "A premature atrial contraction (PAC) is an early beat that starts in the atria: an early P wave of a "
          "different shape, followed by a normal narrow QRS complex. PACs are common and usually harmless; many of "
          "them can herald atrial fibrillation."),
    Entry("Premature ventricular contraction", ("PVC", "PVCs", "VPB", "VPC", "ventricular premature beat",
                                                "ventricular extrasystole", "premature ventricular contractions"),
          "A premature ventricular contraction (PVC) is an early beat that starts in the ventricles: a wide, oddly "
          "shaped QRS complex (120 ms or more) with no P wave before it, usually followed by a compensatory pause. "
          "Occasional PVCs are common; very frequent PVCs or runs of them need evaluation."),
    Entry("Bigeminy", ("ventricular bigeminy", "atrial bigeminy"),
          "Bigeminy is a pattern in which every second beat is a premature beat (normal, premature, normal, "
          "premature); trigeminy is every third beat."),
    Entry("Trigeminy", ("ventricular trigeminy",),
          "Trigeminy is a pattern in which every third beat is a premature beat (two normal beats, then a premature "
          "one)."),
    Entry("Fusion beat", ("fusion beats",),
          "A fusion beat is a QRS complex formed when a sinus impulse and a ventricular impulse activate the "
          "ventricles together: its shape is between the two."),
    Entry("Escape beat", ("escape beats", "escape rhythm"),
          "An escape beat is a late beat from a lower pacemaker (the AV junction or the ventricles) that fires when "
          "the sinus node fails or the impulse is blocked: a protective backup."),
    # conduction
    Entry("AV block", ("heart block", "atrioventricular block", "AV blocks"),
          "AV block is delayed or failed conduction from the atria to the ventricles. First degree: every impulse "
          "gets through but slowly (PR above 200 ms). Second degree: some P waves are not followed by a QRS (Mobitz "
          "I / Wenckebach: the PR lengthens until a beat drops; Mobitz II: beats drop without warning). Third degree "
          "(complete heart block): no impulse gets through, and atria and ventricles beat independently."),
    Entry("First degree AV block", ("first-degree AV block", "1st degree AV block", "first degree heart block",
                                    "1AVB", "prolonged PR interval"),
          "First degree AV block is a PR interval longer than 200 ms with every P wave conducted: slowed conduction "
          "through the AV node. It is usually harmless."),
    Entry("Second degree AV block", ("second-degree AV block", "Mobitz", "Wenckebach", "2nd degree AV block"),
          "In second degree AV block some P waves are not followed by a QRS complex. In Mobitz type I (Wenckebach) "
          "the PR interval lengthens beat by beat until a beat drops, usually benign; in Mobitz type II beats drop "
          "without PR lengthening, which can progress to complete heart block."),
    Entry("Complete heart block", ("third degree AV block", "third-degree AV block", "3rd degree AV block",
                                   "complete AV block"),
          "Complete (third degree) heart block: no atrial impulse reaches the ventricles, so P waves and QRS "
          "complexes run independently, the ventricles driven by a slow escape rhythm. It usually needs a "
          "pacemaker."),
    Entry("Bundle branch block", ("BBB", "bundle branch blocks"),
          "A bundle branch block is a delay or block of conduction in the right or left bundle branch, so one "
          "ventricle is activated late through the muscle: the QRS complex widens to 120 ms or more (complete block) "
          "with a typical shape in V1 and V6."),
    Entry("Left bundle branch block", ("LBBB", "left bundle branch blocks"),
          "Left bundle branch block (LBBB): the left ventricle is activated late, through the right. QRS 120 ms or "
          "more, broad notched R waves in I, aVL, V5-V6 and deep broad S waves in V1. A new LBBB may mean heart "
          "disease and can hide signs of infarction."),
    Entry("Right bundle branch block", ("RBBB", "right bundle branch blocks"),
          "Right bundle branch block (RBBB): the right ventricle is activated late. QRS 120 ms or more, an rSR' "
          "('M'-shaped) complex in V1-V2 and a broad S wave in I and V6. It can be found in healthy people."),
    Entry("Incomplete right bundle branch block", ("IRBBB", "incomplete RBBB"),
          "Incomplete right bundle branch block: the RBBB shape (rSR' in V1) with a QRS of 110-119 ms. Common and "
          "usually harmless."),
    Entry("Left anterior fascicular block", ("LAFB", "left anterior hemiblock", "LAHB"),
          "Left anterior fascicular block (LAFB): block of the anterior branch of the left bundle, with left axis "
          "deviation (-45 degrees or beyond), qR in aVL and rS in II, III and aVF, and a QRS under 120 ms."),
    Entry("Wolff-Parkinson-White pattern", ("WPW", "Wolff-Parkinson-White", "pre-excitation", "preexcitation",
                                            "delta wave"),
          "Wolff-Parkinson-White (WPW) pre-excitation: an extra pathway between atria and ventricles bypasses the AV "
          "node, giving a short PR interval (under 120 ms), a slurred upstroke of the QRS (delta wave) and a wide "
          "QRS. It can cause fast tachycardias."),
    Entry("Left axis deviation", ("LAD",),
          "Left axis deviation is a frontal QRS axis more negative than -30 degrees (QRS positive in I, negative in "
          "II and aVF), as in left anterior fascicular block or inferior infarction."),
    Entry("Right axis deviation", ("RAD",),
          "Right axis deviation is a frontal QRS axis beyond +90 degrees (QRS negative in I, positive in aVF), as in "
          "right ventricular hypertrophy, lung disease or left posterior fascicular block; it can be normal in "
          "children and thin young adults."),
    # chambers, voltage
    Entry("Left ventricular hypertrophy", ("LVH", "ventricular hypertrophy"),
          "Left ventricular hypertrophy (LVH) is a thickened left ventricular wall, often from high blood pressure or "
          "aortic stenosis. ECG voltage criteria: Sokolow-Lyon (S in V1 + R in V5 or V6 above 3.5 mV) or Cornell (R "
          "in aVL + S in V3 above 2.8 mV in men, 2.0 mV in women), sometimes with ST-T strain."),
    Entry("Right ventricular hypertrophy", ("RVH",),
          "Right ventricular hypertrophy (RVH): a thickened right ventricle, from lung disease or pulmonary "
          "hypertension. The ECG shows right axis deviation and a tall R wave in V1."),
    Entry("Left atrial enlargement", ("LAE", "P mitrale", "atrial enlargement"),
          "Left atrial enlargement shows as a broad notched P wave (120 ms or more) in lead II or a deep negative "
          "second half of the P wave in V1; right atrial enlargement as a tall P wave (above 2.5 mm) in II."),
    Entry("Low QRS voltages", ("low voltage", "low voltages", "low QRS voltage"),
          "Low QRS voltage: QRS amplitudes below 0.5 mV in all limb leads (or below 1 mV in all precordial leads), "
          "seen with obesity, emphysema, fluid around the heart or infiltrative disease."),
    # ST-T and infarction
    Entry("ST elevation", ("ST-segment elevation", "STEMI", "ST elevations"),
          "ST elevation is an ST segment above the baseline, at least 1 mm (0.1 mV) in two neighbouring leads (more "
          "in V2-V3). With symptoms it can mean an acute myocardial infarction (STEMI) needing urgent reperfusion; "
          "pericarditis and early repolarization also raise the ST."),
    Entry("ST depression", ("ST-segment depression", "ST depressions"),
          "ST depression is an ST segment below the baseline (0.05 mV or more in two neighbouring leads): ischemia, "
          "strain from hypertrophy, digoxin or a mirror image of ST elevation elsewhere."),
    Entry("T wave inversion", ("inverted T wave", "inverted T waves", "T wave inversions"),
          "T wave inversion is a negative T wave in leads where it is normally upright (I, II, V3-V6): ischemia, "
          "strain, a past infarction, a bundle branch block or a normal variant."),
    Entry("Myocardial infarction", ("heart attack", "MI", "infarct", "infarction", "old myocardial infarction"),
          "A myocardial infarction (heart attack) is death of heart muscle when its blood supply is blocked. The ECG "
          "shows ST elevation or depression and T wave changes when acute, and pathological Q waves when old; the "
          "leads involved show the region (inferior: II, III, aVF; anterior: V1-V4; lateral: I, aVL, V5-V6)."),
    Entry("Q wave abnormal", ("Q wave", "Q waves", "pathological Q waves", "pathologic Q wave"),
          "A Q wave is the first negative deflection of the QRS. A pathological Q wave, 40 ms or wider or deeper than "
          "a quarter of the R wave, in two neighbouring leads suggests an old myocardial infarction."),
    Entry("Myocardial ischemia", ("ischemia", "ischaemia", "myocardial ischaemia"),
          "Myocardial ischemia is too little blood flow to the heart muscle, usually from narrowed coronary "
          "arteries; the ECG may show ST depression or T wave inversion, often only during chest pain or exercise."),
    Entry("Early repolarization", ("early repolarisation",),
          "Early repolarization is J point and ST elevation with a notched or slurred end of the QRS, common in young "
          "healthy people and athletes and usually benign."),
    # electrolytes
    Entry("Hyperkalemia", ("hyperkalaemia", "high potassium"),
          "Hyperkalemia is a too high level of potassium in the blood (above about 5.5 mmol/L), from kidney failure "
          "or drugs. The ECG shows tall peaked T waves, then a wide QRS and flat P waves; severe hyperkalemia can "
          "stop the heart."),
    Entry("Hypokalemia", ("hypokalaemia", "low potassium"),
          "Hypokalemia is a too low level of potassium in the blood (below about 3.5 mmol/L). The ECG shows flat T "
          "waves, prominent U waves and ST depression, and the risk of arrhythmias rises."),
)

GLOSSARY: dict[str, Entry] = {e.name: e for e in _ENTRIES}


def _pattern(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])", re.IGNORECASE)


_TERMS: tuple[tuple[str, re.Pattern[str], Entry], ...] = tuple(sorted(
    ((term, _pattern(term), e) for e in _ENTRIES for term in (e.name, *e.aliases)),
    key=lambda t: -len(t[0])))


def lookup(question: str) -> list[Entry]:
    """The entries for the terms a question names, in the question's order ("the difference between a PAC and a
    PVC": both); where terms overlap the longest wins ("QT interval" over "QT", "atrial flutter" over "flutter")."""
    taken: list[tuple[int, int, Entry]] = []
    for _, pat, e in _TERMS:
        for m in pat.finditer(question):
            if all(m.end() <= a or m.start() >= b for a, b, _ in taken) and all(e is not t for *_, t in taken):
                taken.append((m.start(), m.end(), e))
    return [e for *_, e in sorted(taken, key=lambda t: t[0])]
