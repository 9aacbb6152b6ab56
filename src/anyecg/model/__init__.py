"""anyecg.model"""
