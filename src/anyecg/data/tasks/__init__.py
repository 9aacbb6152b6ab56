"""Task builders: ReportGen, Localization, MultiECG, ECG-QA."""
