"""Chat messages as a host sends them, for the integration tests."""

from __future__ import annotations


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def thread(*turns: str) -> list[dict]:
    """The messages of a thread whose latest message is the last of `turns` (each earlier turn
    answered with "Done.")."""
    messages: list[dict] = []
    for turn in turns:
        messages += [user(turn), {"role": "assistant", "content": "Done."}]
    return messages[:-1]
