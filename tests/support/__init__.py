"""Test doubles shared by the tests (scripted LLM responders)."""

from __future__ import annotations

from typing import Any


def user_prompt(messages: list[dict[str, Any]]) -> str:
    """The first user message of a chat (what the task asked), or "" when there is none."""
    return next((m["content"] for m in messages if m["role"] == "user"), "")
