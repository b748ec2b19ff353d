"""Baselines the harness measures ums-find against."""
