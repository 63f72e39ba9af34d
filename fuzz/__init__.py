"""Fuzzing the input surfaces: ``targets`` (what each target checks) and ``run`` (the 1 000 000-input run)."""
