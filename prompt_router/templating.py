"""The sandboxed Jinja2 environment module bodies are rendered in.

Only module bodies are templates. The user's query is never passed through Jinja.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import RenderError

ENVIRONMENT = ImmutableSandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
)


def parse(source: str) -> tuple[jinja2.Template, frozenset[str]]:
    """Compile a module body; return the template and the variables it reads.

    Raises jinja2.TemplateSyntaxError (with `.lineno`, relative to the body)."""
    ast = ENVIRONMENT.parse(source)
    variables = frozenset(meta.find_undeclared_variables(ast))
    return ENVIRONMENT.from_string(ast), variables


def render(template: jinja2.Template, module_id: str, context: Mapping[str, Any]) -> str:
    """Render one module, turning any template failure into a RenderError naming the module."""
    try:
        return template.render(context).strip()
    except jinja2.UndefinedError as exc:
        raise RenderError(f"module {module_id!r}: {exc.message} (pass it in the context)") from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"module {module_id!r}: template error: {exc}") from None
    except Exception as exc:  # a template can raise anything (e.g. ZeroDivisionError)
        raise RenderError(f"module {module_id!r}: {type(exc).__name__}: {exc}") from None
