"""Benchmarks of the project: one command (``make bench``) measures every row side by side.

    .venv/bin/python -m benchmarks             # the whole suite, writes benchmarks/results/latest.{md,json}
    .venv/bin/python -m benchmarks --only 1,3  # some rows (by number or name), writes results/dev.{md,json}
    .venv/bin/python -m benchmarks --quick     # few repeats, for development

One module per row (``dag_parse``, ``tracking``, ``retry_cost``, ``llm_calls``,
``throughput``, ``fan_out``, ``startup``); :mod:`benchmarks.runner` runs them and
writes the table. Not part of the test run (pytest's testpaths is ``tests/``).
"""
