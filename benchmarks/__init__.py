"""tap-slack-snow's benchmarks, run from the repository root: ``.venv/bin/python -m
benchmarks.run`` (every section, see ``benchmarks/run.py``) and ``.venv/bin/python
benchmarks/token_store.py`` (the token store's own cost)."""
