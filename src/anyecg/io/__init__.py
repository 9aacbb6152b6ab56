"""Readers: decode ECG files of any common format into `ECGRecord` (see `read_record`)."""
