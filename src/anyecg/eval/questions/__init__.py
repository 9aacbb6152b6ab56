"""The held-out question set (`questions_v1.jsonl`), its builder, grader, answerers and report."""
