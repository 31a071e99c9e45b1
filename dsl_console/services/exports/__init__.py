"""Exports for the partnership: the Escalation Summary Log, per-case forms, yearly analysis.

One module per job, imported directly by their users (the CLI, the UI):

- ``atomic``: write a file whole or not at all;
- ``cells``: spreadsheet text made inert (CSV / formula injection);
- ``wording``: dates, names, stages and timescales as the exports word them;
- ``history``: what a case's events say, per stage, for the exports;
- ``summary_log``: the Escalation Summary Log (Liverpool Appendix 1) as CSV or XLSX;
- ``pdf_fonts`` and ``pdf_layout``: the PDF plumbing shared by forms and analysis;
- ``forms``: the partnerships' per-case forms as PDF;
- ``analysis``: the yearly figures, as PDF with bar charts or as CSV.

Nothing here imports Textual, and nothing here logs or prints personal data.
"""
