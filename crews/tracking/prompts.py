"""Prompt versions in MLflow's prompt registry: one prompt per crew, one version per distinct hash."""

from __future__ import annotations

from typing import Any

_known: dict[tuple[str, str, str], Any] = {}  # (uri, name, hash) -> PromptVersion, per process


def prompt_name(crew: str) -> str:
    return f"crews.{crew}"


def ensure_prompt_version(client: Any, crew: str, template: str, prompt_hash: str) -> Any:
    """The registered version whose ``prompt_hash`` tag is ``prompt_hash``; registered if new.

    ``client`` is an ``MlflowClient``. A changed YAML prompt file gives a new hash
    and so a new version; an unchanged one reuses the existing version.
    """
    name = prompt_name(crew)
    key = (client.tracking_uri, name, prompt_hash)
    if key in _known:
        return _known[key]
    found = None
    if client.get_prompt(name) is not None:
        token = None
        while found is None:
            page = client.search_prompt_versions(name, page_token=token)
            found = next((v for v in page if v.tags.get("prompt_hash") == prompt_hash), None)
            token = page.token
            if not token:
                break
    if found is None:
        found = client.register_prompt(name, template, commit_message=f"prompt files hash {prompt_hash}",
                                       tags={"prompt_hash": prompt_hash, "crew": crew})
    _known[key] = found
    return found
