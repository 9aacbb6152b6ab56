"""Source name → adapter. The planning order matters: ECG-QA resolves ids against the sources planned before it."""

from __future__ import annotations

from anyecg.data.sources import edb, ltafdb, mitdb, stdb, svdb
from anyecg.data.sources.cinc import CINC2020, CINC2021, CPSC2018
from anyecg.data.sources.ecgqa import ECGQA
from anyecg.data.sources.mimic import MIMIC
from anyecg.data.sources.ptbxl import PTBXL

SOURCES = {
    "mitdb": mitdb.SOURCE, "stdb": stdb.SOURCE, "edb": edb.SOURCE, "svdb": svdb.SOURCE, "ltafdb": ltafdb.SOURCE,
    "cinc2021": CINC2021, "cinc2020": CINC2020, "cpsc2018": CPSC2018,
    "ptbxl": PTBXL, "mimic": MIMIC, "ecgqa": ECGQA,
}
PLAN_ORDER = tuple(SOURCES)

# Official anyECG-chat dataset names → our source names, and their sampling rates (Hz).
OFFICIAL_DATASETS = {"mit_bih_arrhythmia": "mitdb", "mit_bih_st": "stdb", "european_st_t": "edb",
                     "mimic": "mimic", "ptbxl": "ptbxl", "cpsc": "cpsc2018", "csn": "chapman"}
OFFICIAL_FS = {"mit_bih_arrhythmia": 360.0, "mit_bih_st": 360.0, "european_st_t": 250.0,
               "mimic": 500.0, "ptbxl": 500.0, "cpsc": 500.0, "csn": 500.0}
