"""Chat-backend integration: the thread-manager seam, provider formats, tool filtering, rollout."""

from .conversation import ConversationRouter, HostSection, PreparedPrompt, SystemBlock, message_text
from .providers import CACHE_MINIMUMS, anthropic_messages, anthropic_system, min_cacheable_tokens, openai_messages
from .threads import ThreadStore, arm_for, rollout_bucket
from .tools import filter_tools, tool_name
from .usage import TokenPrices, TokenUsage, parse_usage

__all__ = [
    "CACHE_MINIMUMS",
    "ConversationRouter",
    "HostSection",
    "PreparedPrompt",
    "SystemBlock",
    "ThreadStore",
    "TokenPrices",
    "TokenUsage",
    "anthropic_messages",
    "anthropic_system",
    "arm_for",
    "filter_tools",
    "message_text",
    "min_cacheable_tokens",
    "openai_messages",
    "parse_usage",
    "rollout_bucket",
    "tool_name",
]
