"""Render Markdown the way the Airflow UI shows HITL bodies: CommonMark with GFM tables and strikethrough."""

from __future__ import annotations

import markdown_it


def html(markdown: str) -> str:
    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
