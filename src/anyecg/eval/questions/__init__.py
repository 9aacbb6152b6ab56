"""The held-out question set (`questions_v2.jsonl`), its builder, grader, answerers and report."""
