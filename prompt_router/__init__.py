"""prompt-router: send each LLM request only the parts of the system prompt it needs.

    from prompt_router import PromptRouter
    router = PromptRouter.from_settings()
    result = router.system_prompt("plot sales.csv by month")
    result.text, result.decision.modules, result.prompt.tokens
"""

from .builder import SEPARATOR, BuiltPrompt, PromptBuilder
from .errors import (
    CaseFileError,
    ContextError,
    EncodingUnavailableError,
    LibraryError,
    Problem,
    PromptRouterError,
    RenderError,
)
from .library import ModuleLibrary, PromptModule, Variable, bundled_library_dir, load_library
from .pipeline import PromptResult, PromptRouter, RouterObserver
from .routing import KeywordRouter, ModuleReason, Router, RoutingDecision, static_decision
from .settings import RouterSettings
from .tokens import DEFAULT_ENCODING, TokenCounter
from .triggers import Trigger

__all__ = [
    "SEPARATOR",
    "BuiltPrompt",
    "CaseFileError",
    "ContextError",
    "DEFAULT_ENCODING",
    "EncodingUnavailableError",
    "KeywordRouter",
    "LibraryError",
    "ModuleLibrary",
    "ModuleReason",
    "Problem",
    "PromptBuilder",
    "PromptModule",
    "PromptResult",
    "PromptRouter",
    "PromptRouterError",
    "RenderError",
    "Router",
    "RouterObserver",
    "RouterSettings",
    "RoutingDecision",
    "TokenCounter",
    "Trigger",
    "Variable",
    "bundled_library_dir",
    "load_library",
    "static_decision",
]
