"""Remembering: what the team learns from what it did, week by week."""
