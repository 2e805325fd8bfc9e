"""The printable agenda: a delegation's or one person's programme as HTML, PDF and spreadsheet."""

from scheduler.agenda.assemble import COORDINATOR, SHARED, Agenda, build_agenda

__all__ = ["COORDINATOR", "SHARED", "Agenda", "build_agenda"]
