"""anyecg.serve"""
