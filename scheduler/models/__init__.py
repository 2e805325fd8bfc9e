"""The schema, one module per aggregate; importing this registers every table."""

from scheduler.models.access import DELEGATION_ROLES, DelegationRole, HistoryEntry
from scheduler.models.api_token import ApiToken
from scheduler.models.calendar_feed import CalendarFeedValidator
from scheduler.models.changes import register_change_tracking
from scheduler.models.delegation import PERSON_ROLES, Delegation, Organization, Person
from scheduler.models.meeting import (
    ATTENDEE_ROLES,
    MEETING_KINDS,
    MEETING_STATUSES,
    Attendance,
    Meeting,
    MeetingOrganization,
)
from scheduler.models.release import NOTICE_STATES, Notice, Release
from scheduler.models.rendered_pdf import RenderedPdf
from scheduler.models.request import (
    INTERPRETER_CHOICES,
    REQUEST_PRIORITIES,
    MeetingRequest,
    SuggestionRun,
)
from scheduler.models.review import ConflictAcknowledgement, ConflictOverride, ConflictSummary
from scheduler.models.share_link import ShareLinkUse
from scheduler.models.user import User
from scheduler.models.venue import WEEKDAYS, Room, TravelTime, Venue

register_change_tracking()

__all__ = [
    "ApiToken",
    "RenderedPdf",
    "ATTENDEE_ROLES",
    "INTERPRETER_CHOICES",
    "REQUEST_PRIORITIES",
    "DELEGATION_ROLES",
    "MEETING_KINDS",
    "MEETING_STATUSES",
    "PERSON_ROLES",
    "WEEKDAYS",
    "Attendance",
    "CalendarFeedValidator",
    "ConflictAcknowledgement",
    "ConflictOverride",
    "ConflictSummary",
    "Delegation",
    "DelegationRole",
    "HistoryEntry",
    "Meeting",
    "MeetingOrganization",
    "NOTICE_STATES",
    "Notice",
    "MeetingRequest",
    "SuggestionRun",
    "Organization",
    "Person",
    "Release",
    "Room",
    "ShareLinkUse",
    "TravelTime",
    "User",
    "Venue",
]
