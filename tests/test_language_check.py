"""The language check's grading, and that its questions are not among the training turns."""

from anyecg.data.tasks.general import QUESTIONS
from anyecg.eval.questions.language import LANGUAGE_QUESTIONS, sensible


def test_language_questions_are_never_trained_on():
    trained = {q.strip().lower() for q in QUESTIONS}
    assert not [q for q, _ in LANGUAGE_QUESTIONS if q.strip().lower() in trained]


def test_sensible_needs_words_of_every_group_and_no_answer_format():
    groups = dict(LANGUAGE_QUESTIONS)["What does QTc mean?"]
    assert sensible("QTc is the QT interval corrected for heart rate.", groups)
    assert not sensible("QTc is a measure of the heart.", groups)  # no "corrected"
    assert not sensible("Duration: 0.1s-0.5s corrected QT", groups)
    assert not sensible("No Ever Ever Found", groups)
    assert not sensible("corrected QT", groups)  # too short to be an answer
