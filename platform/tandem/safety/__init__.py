"""Boundaries and safety: concerns on a deadline clock, urgent escalation to the on-call
supervisor, and (in the `care_*` modules) check-ins and mentor self-care."""
