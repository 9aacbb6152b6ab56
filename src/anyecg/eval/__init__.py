"""anyecg.eval"""
