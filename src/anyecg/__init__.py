"""anyecg: talk to electrocardiograms (anyECG-chat, offline and at scale)."""

__version__ = "0.1.0"
