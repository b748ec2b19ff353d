"""The benchmark harness: ums-find beside its baselines, measured in one run."""
