"""anyecg.train"""
