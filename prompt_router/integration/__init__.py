"""Chat-backend integration: the thread-manager seam, thread state (in memory or Redis),
fleet-wide switches, provider formats, tool filtering, rollout, live library reload."""

from .conversation import ConversationRouter, HostSection, HostTokenCache, PreparedPrompt, SystemBlock, store_from_settings
from .memory import MemoryThreadStore
from .messages import Conversation, message_text, read_conversation, tool_calls
from .outage import OutageStats, StoreBreaker
from .providers import (
    CACHE_MINIMUMS,
    anthropic_messages,
    anthropic_request,
    anthropic_system,
    min_cacheable_tokens,
    openai_explicit_breakpoints,
    openai_messages,
)
from .redis_store import RedisThreadStore
from .rollout import Arm, arm_for, rollout_bucket
from .state import AsyncSwitchStore, AsyncThreadStore, Switches, SwitchStore, ThreadState, ThreadStore, thread_key
from .tools import filter_tools, tool_name
from .usage import TokenPrices, TokenUsage, parse_usage
from .watch import LibraryWatcher, library_fingerprint

__all__ = [
    "CACHE_MINIMUMS",
    "Arm",
    "AsyncSwitchStore",
    "AsyncThreadStore",
    "Conversation",
    "ConversationRouter",
    "HostSection",
    "HostTokenCache",
    "LibraryWatcher",
    "MemoryThreadStore",
    "OutageStats",
    "PreparedPrompt",
    "RedisThreadStore",
    "StoreBreaker",
    "SwitchStore",
    "Switches",
    "SystemBlock",
    "ThreadState",
    "ThreadStore",
    "TokenPrices",
    "TokenUsage",
    "anthropic_messages",
    "anthropic_request",
    "anthropic_system",
    "arm_for",
    "filter_tools",
    "library_fingerprint",
    "message_text",
    "min_cacheable_tokens",
    "openai_explicit_breakpoints",
    "openai_messages",
    "parse_usage",
    "read_conversation",
    "rollout_bucket",
    "store_from_settings",
    "thread_key",
    "tool_calls",
    "tool_name",
]
