"""DSL Console: escalation tracking for designated safeguarding leads."""

__version__ = "0.1.0"
