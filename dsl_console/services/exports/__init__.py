"""Exports for the partnership: the Escalation Summary Log, per-case forms, yearly analysis.

One module per job, imported directly by their users (the CLI, the UI); nothing heavy
(openpyxl, fpdf2) is imported until an export of that kind is asked for:

- ``summary_log``: ``write_log``, the Escalation Summary Log (Liverpool Appendix 1), CSV or XLSX;
- ``forms``: ``write_form``, the partnerships' per-case forms as PDF, and ``blank_fields``,
  the fields a form would print blank, told before it is written;
- ``analysis``: ``yearly_figures`` and ``write_analysis``, the yearly figures as PDF or CSV
  (stage figures per procedure);
- ``atomic``: ``atomic_output``, a file written whole or not at all;
- ``cells``: spreadsheet text made inert (CSV / formula injection);
- ``wording``: dates, names, stages, reasons and timescales as the exports word them;
- ``history``: a case as it stood at a moment (its facts as amended), the steps taken, its
  immediate risks and amendments, for the exports;
- ``case_record``: what every form says about a case, and the record appended to each;
- ``pdf_fonts`` and ``pdf_layout``: the PDF plumbing shared by the forms and the analysis.

Nothing here imports Textual, and nothing here logs or prints personal data.
"""
