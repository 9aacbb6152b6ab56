"""Readers: decode ECG files of any common format into `ECGRecord` (see `read_record`)."""

from anyecg.io.common import RecordInfo
from anyecg.io.reader import detect_format, read_info, read_record
from anyecg.io.record import BeatAnnotations, ECGRecord, Event

__all__ = ["BeatAnnotations", "ECGRecord", "Event", "RecordInfo", "detect_format", "read_info", "read_record"]
