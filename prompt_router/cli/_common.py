"""What every command shares: settings from the environment and the options, the context
from --var, and the console (rich, from the `cli` extra)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import SettingsError, UsageError
from ..settings import RouterSettings


def load_settings(**overrides: Any) -> RouterSettings:
    """The settings from PROMPT_ROUTER_* and .env, as one clear error when one is invalid."""
    try:
        settings = RouterSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise SettingsError(f"invalid setting PROMPT_ROUTER_{field.upper()}: {first['msg']}") from None
    return settings.model_copy(update={k: v for k, v in overrides.items() if v is not None}) if overrides else settings


def settings_from_args(args: argparse.Namespace) -> RouterSettings:
    return load_settings(
        modules_dir=Path(args.modules) if getattr(args, "modules", None) else None,
        encoding=getattr(args, "encoding", None),
        fallback=getattr(args, "fallback", None),
        use_dynamic_routing=False if getattr(args, "static", False) else None,
    )


def context_from_args(args: argparse.Namespace) -> dict[str, str]:
    context: dict[str, str] = {}
    for item in getattr(args, "var", None) or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--var takes NAME=VALUE, got {item!r}")
        context[name] = value
    return context


def fraction(value: str) -> float:
    """argparse type: a number in [0, 1]."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"takes a fraction between 0 and 1, got {value}")
    return number


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value}")
    return number


def require_rich() -> None:
    """The human-readable output needs rich (the `cli` extra)."""
    try:
        import rich  # noqa: F401
    except ImportError:
        raise UsageError("this command needs the CLI extra: pip install 'prompt-router[cli]'") from None
