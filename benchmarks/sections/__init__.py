"""The sections of ``benchmarks/run.py``, one module each: set-up, runs, arithmetic and the
section's Markdown. What several share is in ``common``."""
