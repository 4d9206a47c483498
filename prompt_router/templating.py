"""The sandboxed Jinja2 environment module bodies are rendered in.

Only module bodies are templates. The user's query is never passed through Jinja.

The sandbox stops a template from reaching Python internals; on top of it, the size of what a
template can build is capped (`max_output_chars`, the setting `template_max_output_chars`):
`*`, `**` and `+` check the size of their result before computing it, so `{{ "ab" * 300000000 }}`
is a clear error at load time instead of a 600 MB string (constant folding at compile time is
off for these operators for the same reason), and a rendered module longer than the cap is an
error too.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import RenderError

DEFAULT_MAX_OUTPUT_CHARS = 1024 * 1024


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with the size of built strings, lists and numbers capped."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def __init__(self, max_output_chars: int) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
        self.max_output_chars = max_output_chars

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        limit = self.max_output_chars
        size: int | None = None
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
                    size = len(sequence) * count
        elif operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                size = len(left) + len(right)
        elif isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            size = (abs(left).bit_length() * right) // 8  # `**`: the result's size in bytes
        if size is not None and size > limit:
            raise SecurityError(f"the expression would build {size:,} characters, over the limit of {limit:,} "
                                "(setting template_max_output_chars)")
        return super().call_binop(context, operator, left, right)


@functools.lru_cache(maxsize=8)
def environment(max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS) -> BoundedSandbox:
    """The shared sandbox for one output cap (a library's templates all use the same one)."""
    return BoundedSandbox(max_output_chars)


def parse(source: str, max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS) -> tuple[jinja2.Template, frozenset[str]]:
    """Compile a module body; return the template and the variables it reads.

    Raises jinja2.TemplateSyntaxError (with `.lineno`, relative to the body)."""
    env = environment(max_output_chars)
    ast = env.parse(source)
    variables = frozenset(meta.find_undeclared_variables(ast))
    return env.from_string(ast), variables


def _template_line(traceback: TracebackType | None) -> int | None:
    """The template line a render error came from: Jinja rewrites tracebacks so that template
    code appears as frames of the file `<template>` at the template's own line numbers."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def render(template: jinja2.Template, module_id: str, context: Mapping[str, Any]) -> str:
    """Render one module, turning any template failure into a RenderError naming the module
    (and, when known, the line of its body at fault)."""
    limit = getattr(template.environment, "max_output_chars", DEFAULT_MAX_OUTPUT_CHARS)
    chunks: list[str] = []
    size = 0
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > limit:
                raise RenderError(f"module {module_id!r}: renders to more than {limit:,} characters "
                                  "(setting template_max_output_chars)")
            chunks.append(chunk)
    except RenderError:
        raise
    except jinja2.UndefinedError as exc:
        raise RenderError(f"module {module_id!r}: {exc.message} (pass it in the context)",
                          _template_line(exc.__traceback__)) from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"module {module_id!r}: template error: {exc}", _template_line(exc.__traceback__)) from None
    except Exception as exc:  # a template can raise anything (e.g. ZeroDivisionError, MemoryError)
        raise RenderError(f"module {module_id!r}: {type(exc).__name__}: {exc}", _template_line(exc.__traceback__)) from None
    return "".join(chunks).strip()
