"""Stages 4-6 driven together: one analysis (analyze), every lane (lanes), the
maximum data rate (rate) and channels x specs for CI (validate)."""
