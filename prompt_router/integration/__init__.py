"""Chat-backend integration: the thread-manager seam, delivery policies (and `auto`, which
picks one from the delivery plan), on-demand module loading, thread state (in memory or
Redis), fleet-wide switches, provider formats, tool filtering, rollout, live library reload."""

from .auto import REASONS, Choice, PolicyChooser
from .conversation import ConversationRouter, HostSection, HostTokenCache, PreparedPrompt, SystemBlock, store_from_settings
from .delivery import LOAD_MODULE_TOOL, Attachment, Catalogue, Delivery, deliver, read_pin, to_record
from .loading import LoadCall, LoadedModule, load_module_tool, read_load_call
from .memory import MemoryThreadStore
from .messages import Conversation, message_text, read_conversation, tool_calls
from .outage import OutageStats, StoreBreaker
from .plan import POLICIES, DeliveryPlan, PlanCell, PolicyName
from .pricing import PROVIDERS, CachePricing, pricing_for_model
from .providers import (
    CACHE_MINIMUMS,
    anthropic_messages,
    anthropic_request,
    anthropic_system,
    min_cacheable_tokens,
    openai_explicit_breakpoints,
    openai_messages,
    with_attachments,
)
from .redis_store import RedisThreadStore
from .rollout import Arm, arm_for, rollout_bucket
from .state import AsyncSwitchStore, AsyncThreadStore, Switches, SwitchStore, ThreadState, ThreadStore, thread_key
from .tools import filter_tools, tool_name
from .traffic import Traffic, TrafficMeter
from .usage import TokenPrices, TokenUsage, parse_usage
from .usage_check import RequestCost, UsageCheck, request_cost
from .watch import LibraryWatcher, library_fingerprint

__all__ = [
    "CACHE_MINIMUMS",
    "LOAD_MODULE_TOOL",
    "POLICIES",
    "PROVIDERS",
    "REASONS",
    "Arm",
    "AsyncSwitchStore",
    "AsyncThreadStore",
    "Attachment",
    "CachePricing",
    "Catalogue",
    "Choice",
    "Conversation",
    "ConversationRouter",
    "Delivery",
    "DeliveryPlan",
    "HostSection",
    "HostTokenCache",
    "LibraryWatcher",
    "LoadCall",
    "LoadedModule",
    "MemoryThreadStore",
    "OutageStats",
    "PlanCell",
    "PolicyChooser",
    "PolicyName",
    "PreparedPrompt",
    "RedisThreadStore",
    "RequestCost",
    "StoreBreaker",
    "SwitchStore",
    "Switches",
    "SystemBlock",
    "ThreadState",
    "ThreadStore",
    "TokenPrices",
    "TokenUsage",
    "Traffic",
    "TrafficMeter",
    "UsageCheck",
    "anthropic_messages",
    "anthropic_request",
    "anthropic_system",
    "arm_for",
    "deliver",
    "filter_tools",
    "library_fingerprint",
    "load_module_tool",
    "message_text",
    "min_cacheable_tokens",
    "openai_explicit_breakpoints",
    "openai_messages",
    "parse_usage",
    "pricing_for_model",
    "read_conversation",
    "read_load_call",
    "read_pin",
    "request_cost",
    "rollout_bucket",
    "store_from_settings",
    "thread_key",
    "to_record",
    "tool_calls",
    "tool_name",
    "with_attachments",
]
