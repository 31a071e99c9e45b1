"""The performance benchmark: `python -m tests.bench` (not collected by pytest).

It builds a database of fictional cases (100,000 by default), then measures the import, the
console's first paint, filter keystrokes and opening a case against a bare Textual app run
alternately beside it, the sweep against the command line's own start-up, the full CSV log
export and peak memory, and prints a table and writes JSON. See README "Performance".
"""
