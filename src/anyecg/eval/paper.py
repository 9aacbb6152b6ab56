"""The paper's published figures (arXiv 2506.00942, `seeds/anyecg-chat-paper.txt`), printed beside ours.

Localization per dataset is only drawn in the paper's Figure 2 (no numbers in the text); the one
localization number it prints is Table 8's average IoU of the default model (56.10, in %).
"""

from __future__ import annotations

# Table 4: macro AUC (%) of zero-shot classification from generated reports.
TABLE4_AUC = {
    "anyECG-chat": {"ptbxl_super": 68.95, "ptbxl_sub": 73.10, "ptbxl_form": 64.55, "ptbxl_rhythm": 77.60,
                    "cpsc2018": 71.05, "csn": 71.29},
    "PULSE": {"ptbxl_super": 66.61, "ptbxl_sub": 61.32, "ptbxl_form": 63.82, "ptbxl_rhythm": 73.91,
              "cpsc2018": 66.15, "csn": 64.18},
    "MERL (discriminative)": {"ptbxl_super": 74.20, "ptbxl_sub": 75.70, "ptbxl_form": 65.90,
                              "ptbxl_rhythm": 78.50, "cpsc2018": 82.80, "csn": 74.40},
}

# Table 5: report generation, averaged over the six datasets.
TABLE5_TEXT = {
    "anyECG-chat": {"bleu1": 0.53, "bleu2": 0.51, "bleu3": 0.47, "bleu4": 0.44,
                    "rouge1": 0.72, "rouge2": 0.68, "rougeL": 0.60},
    "PULSE": {"bleu1": 0.50, "bleu2": 0.46, "bleu3": 0.43, "bleu4": 0.40,
              "rouge1": 0.68, "rouge2": 0.64, "rougeL": 0.58},
}

# Table 6: mean judge score (0-5) on MIMIC Multi-ECG QA by number of ECGs.
TABLE6_JUDGE = {
    "anyECG-chat": {"2": 3.30, "3": 2.81, "4": 2.59, "5": 2.63, "6": 2.98, "all": 3.02},
    "PULSE": {"2": 1.66, "3": 1.40, "4": 1.13, "5": 1.46, "6": 1.84, "all": 1.53},
}

# Table 7: ECG-QA exact-match accuracy (%) per question type.
TABLE7_ECGQA = {
    "anyECG-chat": {"single-verify": 69.6, "single-choose": 50.1, "single-query": 20.1,
                    "comparison_consecutive-verify": 68.0, "comparison_consecutive-query": 8.6,
                    "comparison_irrelevant-verify": 72.1, "comparison_irrelevant-query": 1.2},
    "PULSE": {"single-verify": 64.6, "single-choose": 56.1, "single-query": 2.4,
              "comparison_consecutive-verify": 52.9, "comparison_consecutive-query": 3.9,
              "comparison_irrelevant-verify": 57.1, "comparison_irrelevant-query": 0.0},
}

# Table 8: average localization IoU (%) of the default model (Figure 2 has the per-dataset bars).
TABLE8_LOCALIZATION_IOU = 56.10


def paper_value(table: dict, key: str, model: str = "anyECG-chat") -> float | None:
    """The paper's figure for `key` in `table`, or None when the paper has none."""
    return table.get(model, {}).get(key)
