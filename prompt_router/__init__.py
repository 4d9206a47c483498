"""prompt-router: send each LLM request only the parts of the system prompt it needs.

    from prompt_router import PromptRouter
    router = PromptRouter.from_settings()
    result = router.system_prompt("plot sales.csv by month")
    result.text, result.decision.modules, result.prompt.tokens

In a chat backend, `ConversationRouter.prepare(thread_id, messages)` is the one call per LLM
request (threads, stickiness, rollout, host sections); `prompt_router.integration` has the
provider formats. Layers (docs/architecture.md): library -> routing -> building -> pipeline ->
delivery, with observers (telemetry) fed one way; evaluation, training and the CLI sit on top
and are never imported by the runtime.
"""

from .builder import BuiltPrompt, PromptBuilder
from .errors import (
    CaseFileError,
    ContextError,
    EncodingUnavailableError,
    LibraryError,
    ModelError,
    Problem,
    PromptRouterError,
    RenderError,
    SettingsError,
    StateStoreError,
    UsageError,
)
from .integration import ConversationRouter, HostSection, PreparedPrompt, SystemBlock
from .library import ModuleLibrary, PromptModule, bundled_library_dir, load_library
from .pipeline import PromptRouter
from .results import Observer, PromptResult, ProviderRequest, RouterObserver
from .routing import KeywordRouter, LearnedRouter, ModuleReason, Router, RoutingDecision
from .settings import RouterSettings
from .tokens import TokenCounter

__all__ = [
    "BuiltPrompt",
    "CaseFileError",
    "ContextError",
    "ConversationRouter",
    "EncodingUnavailableError",
    "HostSection",
    "KeywordRouter",
    "LearnedRouter",
    "LibraryError",
    "ModelError",
    "ModuleLibrary",
    "ModuleReason",
    "Observer",
    "PreparedPrompt",
    "Problem",
    "PromptBuilder",
    "PromptModule",
    "PromptResult",
    "PromptRouter",
    "PromptRouterError",
    "ProviderRequest",
    "RenderError",
    "Router",
    "RouterObserver",
    "RouterSettings",
    "RoutingDecision",
    "SettingsError",
    "StateStoreError",
    "SystemBlock",
    "TokenCounter",
    "UsageError",
    "bundled_library_dir",
    "load_library",
]
