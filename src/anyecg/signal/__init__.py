"""anyecg.signal"""
