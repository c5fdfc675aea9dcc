"""SQLAlchemy models, split by domain, on the extension's own metadata."""

from .audit import AuditLog
from .base import TABLE_PREFIX, Base, metadata
from .canned import CannedResponse
from .csat import SatisfactionRating
from .custom_fields import CustomField, CustomFieldValue
from .email import InboundEmail, OutboundEmail
from .guest import GuestChallenge, GuestToken
from .kb import KbArticle, KbCategory, KbFeedback, KbPendingView, KbPosting
from .people import AgentProfile, Contact, Department, DepartmentMember
from .relations import TicketLink
from .roles import Role, RoleGrant
from .routing import AgentCapacity, AgentSkill, Skill, UnroutedTicket, skill_departments, skill_tags
from .rules import Automation, EscalationRule, Macro, RuleFiring, RuleLog, Workflow
from .search import TicketSearchDocument
from .settings import Setting
from .side_conversations import SideConversation, SideConversationReply
from .sla import BusinessSchedule, Holiday, SlaPolicy
from .statuses import TicketStatus
from .tickets import Activity, Attachment, Reply, Tag, Ticket, TicketFollower, ticket_tags
from .tokens import ApiToken
from .two_factor import TwoFactorCredential
from .views import DefaultView, SavedView, view_departments
from .webhooks import Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "TABLE_PREFIX",
    "Activity",
    "AgentCapacity",
    "AgentProfile",
    "AgentSkill",
    "ApiToken",
    "Attachment",
    "AuditLog",
    "Automation",
    "Base",
    "BusinessSchedule",
    "CannedResponse",
    "Contact",
    "CustomField",
    "CustomFieldValue",
    "DefaultView",
    "Department",
    "DepartmentMember",
    "EscalationRule",
    "GuestChallenge",
    "GuestToken",
    "Holiday",
    "InboundEmail",
    "KbArticle",
    "KbCategory",
    "KbFeedback",
    "KbPendingView",
    "KbPosting",
    "Macro",
    "OutboundEmail",
    "Reply",
    "Role",
    "RoleGrant",
    "RuleFiring",
    "RuleLog",
    "SatisfactionRating",
    "SavedView",
    "Setting",
    "SideConversation",
    "SideConversationReply",
    "Skill",
    "SlaPolicy",
    "Tag",
    "Ticket",
    "TicketFollower",
    "TicketLink",
    "TicketSearchDocument",
    "TicketStatus",
    "TwoFactorCredential",
    "UnroutedTicket",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "Workflow",
    "metadata",
    "skill_departments",
    "skill_tags",
    "ticket_tags",
    "view_departments",
]
