"""Settings, from `PROMPT_ROUTER_*` environment variables or a `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .tokens import DEFAULT_ENCODING


class RouterSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PROMPT_ROUTER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",  # a shared .env holds other applications' variables too
        env_ignore_empty=True,  # `NAME=` in .env means "use the default"
        frozen=True,
    )

    use_dynamic_routing: bool = Field(True, description="false = send the full prompt, byte for byte")
    modules_dir: Path | None = Field(None, description="module library directory; default: the bundled one")
    fallback: Literal["all", "core"] | None = Field(
        None, description="when no trigger matches: 'all' = full prompt, 'core' = core + response; default: the library's"
    )
    encoding: str = Field(DEFAULT_ENCODING, description="tiktoken encoding used to count tokens")
    history_turns: int = Field(3, ge=0, description="earlier user turns that are also routed")
    max_scan_chars: int = Field(32_000, ge=0, description="scan at most this many characters of a message (head + tail); 0 = all")
    route_cache_size: int = Field(4096, ge=0, description="routing decisions kept (LRU)")
    build_cache_size: int = Field(256, ge=0, description="assembled prompts kept (LRU)")
