"""The interface every router implements."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol, runtime_checkable

from ..library import ModuleLibrary
from .decision import RoutingDecision


@runtime_checkable
class Router(Protocol):
    """Turns a query (with earlier user turns, oldest first, and the modules the thread
    already keeps) into a RoutingDecision for one library. Built-in routers gather evidence
    and hand it to a `DecisionRule`; a custom router may do the same or decide by itself."""

    name: str
    library: ModuleLibrary

    def route(self, query: str, history: Sequence[str] = (), sticky: Collection[str] = ()) -> RoutingDecision: ...
