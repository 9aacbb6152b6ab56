"""anyecg.data"""
