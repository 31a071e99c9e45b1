"""The console's modal forms: every change to the records goes through one of them.

- new_case.NewCaseForm: open a case (key n on the list)
- record_event.RecordEventForm (e), escalate.EscalateForm (x), deadline.DeadlineForm (d),
  resolve.ResolveForm (r), missed.TimescaleMissedForm (m), actions.AddActionForm (a) and
  actions.ActionDoneForm (A): the case screen's changes
- base.FormScreen / base.CaseEventForm: fields with messages in place, writes in a worker
"""
