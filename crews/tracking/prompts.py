"""Prompt versions in MLflow's prompt registry: one prompt per crew (``crews.<crew>``), one version per
distinct hash, and the version a crew run is served.

A version's text is the crew's YAML config files in registry form (see
:mod:`crews.prompt_source`); its ``prompt_hash`` tag is the hash of that text.

- :func:`load_served` resolves what a run is served: the version an alias
  (default ``production``) or a number names, or the YAML files on disk when the
  registry cannot serve (server down, no such prompt / alias / version, a text
  that does not fit the crew), with the reason. It never raises.
- :func:`version_for_run` is the version a run is linked to: the one served, or
  the YAML's (registered if new).
- :func:`push`, :func:`promote` and :func:`show` are ``python -m crews prompts``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from crews.prompt_source import (
    DEFAULT_ALIAS,
    SELECTOR_PATTERN,
    PromptTemplateError,
    Selector,
    ServedPrompts,
    check_fits,
    config_files,
    selector,
    split_template,
    template_hash,
    yaml_prompts,
)
from crews.tracking.mlflow_writer import TrackingUnavailable, connect, tracking_uri
from crews.tracking.prompt_rest import (
    MISSING_CODES,
    NotInRegistry,
    RegistryUnreachable,
    RestPromptVersion,
    fetch_version,
    prompt_exists,
)

log = logging.getLogger(__name__)

_known: dict[tuple[str, str, str], Any] = {}  # (uri, name, hash) -> PromptVersion, per process


class PromptRegistryError(RuntimeError):
    """A prompt registry request that names nothing: no such prompt, version or alias (exit status 2)."""


def prompt_name(crew: str) -> str:
    return f"crews.{crew}"


def _config_dir(crew: str, config_dir: Path | None) -> Path:
    from crews.registry import crew_config_dir

    return Path(config_dir) if config_dir is not None else crew_config_dir(crew)


def _versions(client: Any, name: str) -> list[Any]:
    """Every registered version of prompt ``name`` (none if the prompt does not exist)."""
    if client.get_prompt(name) is None:
        return []
    found, token = [], None
    while True:
        page = client.search_prompt_versions(name, page_token=token)
        found += list(page)
        token = page.token
        if not token:
            return found


def _version_hash(version: Any) -> str:
    return template_hash(version.template) if isinstance(version.template, str) else ""


def find_prompt_version(client: Any, crew: str, prompt_hash: str) -> Any | None:
    """The registered version of ``crews.<crew>`` whose text has ``prompt_hash`` (lowest number), or None."""
    matches = [v for v in _versions(client, prompt_name(crew))
               if v.tags.get("prompt_hash") == prompt_hash or _version_hash(v) == prompt_hash]
    return min(matches, key=lambda v: int(v.version)) if matches else None


def ensure_prompt_version(client: Any, crew: str, template: str, prompt_hash: str) -> Any:
    """The registered version whose ``prompt_hash`` is ``prompt_hash``; registered if new.

    ``client`` is an ``MlflowClient``. A changed YAML prompt file gives a new hash
    and so a new version; an unchanged one reuses the existing version (also one
    registered by hand with the same text but no ``prompt_hash`` tag).
    """
    return _ensure(client, crew, template, prompt_hash)[0]


def _ensure(client: Any, crew: str, template: str, prompt_hash: str) -> tuple[Any, bool]:
    """(version, whether it was registered now)."""
    name = prompt_name(crew)
    key = (client.tracking_uri, name, prompt_hash)
    if key in _known:
        return _known[key], False
    found, registered = find_prompt_version(client, crew, prompt_hash), False
    if found is None:
        found = client.register_prompt(name, template, commit_message=f"prompt files hash {prompt_hash}",
                                       tags={"prompt_hash": prompt_hash, "crew": crew})
        registered = True
    _known[key] = found
    return found, registered


def version_for_run(client: Any, crew: str, tags: dict[str, str], template: str) -> Any:
    """The prompt version a run is linked to: the registry version it was served (tags ``prompt_source``
    = ``registry``, ``prompt_version``), else the version of ``template`` (the YAML's, registered if new)."""
    if tags.get("prompt_source") == "registry" and tags.get("prompt_version", "").isdigit():
        try:
            version = client.get_prompt_version(prompt_name(crew), tags["prompt_version"])
            if version is not None and _version_hash(version) == tags.get("prompt_hash"):
                return version
            log.warning("prompt %s version %s no longer has the served text; linking the text's own version",
                        prompt_name(crew), tags["prompt_version"])
        except Exception as exc:
            log.warning("served prompt version %s not found (%s); linking the text's own version",
                        tags["prompt_version"], exc)
        return ensure_prompt_version(client, crew, template, template_hash(template))
    return ensure_prompt_version(client, crew, template, tags.get("prompt_hash") or template_hash(template))


# --- serving ---------------------------------------------------------------------------------------------


def _missing(exc: Exception) -> bool:
    """Whether an MLflow error says the prompt, version or alias does not exist."""
    return getattr(exc, "error_code", "") in MISSING_CODES


def _not_found(crew: str, choice: Selector, registered: bool) -> PromptRegistryError:
    """The error naming what ``choice`` asked for that does not exist, and the command that makes it."""
    name = prompt_name(crew)
    if not registered:
        return PromptRegistryError(f"prompt {name} is not registered (python -m crews prompts push {crew})")
    if choice.version:
        return PromptRegistryError(f"prompt {name} has no version {choice.version}")
    return PromptRegistryError(f"prompt {name} has no alias {choice.alias!r} "
                               f"(python -m crews prompts promote {crew} <version> --alias {choice.alias})")


def _lookup(client: Any, crew: str, choice: Selector) -> Any:
    """The version ``choice`` names; :class:`PromptRegistryError` naming what does not exist."""
    from mlflow.exceptions import MlflowException

    name = prompt_name(crew)
    try:
        if choice.version:
            version = client.get_prompt_version(name, choice.version)
        else:
            version = client.get_prompt_version_by_alias(name, choice.alias)
    except MlflowException as exc:
        if not _missing(exc):
            raise
        version = None
    if version is not None:
        return version
    raise _not_found(crew, choice, registered=client.get_prompt(name) is not None)


def _rest_lookup(uri: str, crew: str, choice: Selector) -> RestPromptVersion:
    """:func:`_lookup` over the server's REST API, without importing MLflow."""
    name = prompt_name(crew)
    try:
        return fetch_version(uri, name, version=choice.version, alias=choice.alias)
    except NotInRegistry:
        raise _not_found(crew, choice, registered=prompt_exists(uri, name)) from None


def _served_version(crew: str, choice: Selector) -> Any:
    """The version ``choice`` names: asked over REST from an HTTP server (MLflow is not imported in the
    item's LLM slot for it), through ``MlflowClient`` from any other store."""
    uri = tracking_uri()
    if uri.startswith(("http://", "https://")):
        return _rest_lookup(uri, crew, choice)
    return _lookup(connect(uri), crew, choice)


def load_served(crew: str, requested: str | int | None = None,
                config_dir: Path | None = None) -> ServedPrompts:
    """The prompts to serve one run of ``crew``: the registry version that ``requested`` (else
    ``CREWS_PROMPT_VERSION``, ``CREWS_PROMPT_ALIAS``, ``production``) names, or the YAML files on disk.

    Falls back to the YAML files, with a warning and the reason in ``fallback``, when
    MLflow cannot be reached, the prompt, alias or version does not exist, or the
    version's text does not fit the crew. Never raises for prompt reasons.
    """
    config_dir = _config_dir(crew, config_dir)
    choice = selector(requested)

    def fallback(reason: str) -> ServedPrompts:
        served = yaml_prompts(crew, config_dir, choice.text, fallback=reason)
        log.warning("%s: serving the YAML prompt files (hash %s) instead of %s %s: %s", crew,
                    served.prompt_hash, prompt_name(crew),
                    f"version {choice.version}" if choice.version else f"@{choice.alias}", reason)
        return served

    if choice.is_yaml:
        return yaml_prompts(crew, config_dir, choice.text)
    if not choice.valid:
        return fallback(f"{choice.text!r} is neither an alias name nor a version number")
    try:
        version = _served_version(crew, choice)
    except PromptRegistryError as exc:
        return fallback(str(exc))
    except (TrackingUnavailable, RegistryUnreachable) as exc:
        return fallback(f"MLflow unreachable: {exc}")
    except Exception as exc:
        return fallback(f"prompt registry error: {type(exc).__name__}: {str(exc)[:300]}")
    disk = config_files(config_dir)
    try:
        if not isinstance(version.template, str):
            raise PromptTemplateError("it is a chat prompt, not text")
        files = split_template(version.template)
        check_fits(files, disk)
    except PromptTemplateError as exc:
        return fallback(f"version {version.version} does not fit the crew: {exc}")
    served = ServedPrompts(crew, config_dir, version.template, _version_hash(version), "registry",
                           choice.text, version=str(version.version), alias=choice.alias, files=files)
    yaml_hash = yaml_prompts(crew, config_dir, choice.text).prompt_hash
    log.info("%s: serving prompt %s version %s%s (hash %s)%s", crew, prompt_name(crew), served.version,
             f" (alias {choice.alias})" if choice.alias else "", served.prompt_hash,
             "" if yaml_hash == served.prompt_hash else
             f"; the YAML files on disk differ (hash {yaml_hash}): push and promote them to serve them")
    return served


# --- python -m crews prompts ---------------------------------------------------------------------------


def check_alias(alias: str) -> str:
    if not re.fullmatch(SELECTOR_PATTERN, alias) or alias.isdigit():
        raise PromptRegistryError(f"{alias!r} is not an alias name (a letter, then letters, digits, _ or -)")
    return alias


def _alias_version(client: Any, crew: str, alias: str) -> str | None:
    try:
        return str(_lookup(client, crew, Selector(alias)).version)
    except PromptRegistryError:
        return None


def push(client: Any, crew: str, alias: str | None = None) -> dict[str, Any]:
    """Register the crew's YAML files as a version (none when that text is registered already) and point
    ``alias`` at it; without ``alias``, ``production`` is set only when it does not exist yet."""
    from crews.registry import crew_config_dir, prompt_hash, prompt_template

    folder = crew_config_dir(crew)
    if alias is not None:
        check_alias(alias)
    hashed = prompt_hash(folder)
    version, registered = _ensure(client, crew, prompt_template(folder), hashed)
    target = alias or DEFAULT_ALIAS
    before = _alias_version(client, crew, target)
    moved = alias is not None or before is None
    if moved and before != str(version.version):
        client.set_prompt_alias(prompt_name(crew), target, int(version.version))
    report = {"crew": crew, "prompt": prompt_name(crew), "version": str(version.version),
              "prompt_hash": hashed, "registered": registered, "alias": target,
              "alias_version": str(version.version) if moved else before}
    if moved and before != str(version.version):
        report["alias_was"] = before
    return report


def promote(client: Any, crew: str, version: str, alias: str = DEFAULT_ALIAS) -> dict[str, Any]:
    """Point ``alias`` at ``version`` (which must exist)."""
    check_alias(alias)
    if not str(version).isdigit():
        raise PromptRegistryError(f"{version!r} is not a version number")
    found = _lookup(client, crew, Selector(str(int(version))))
    before = _alias_version(client, crew, alias)
    client.set_prompt_alias(prompt_name(crew), alias, int(found.version))
    return {"crew": crew, "prompt": prompt_name(crew), "alias": alias, "version": str(found.version),
            "alias_was": before, "prompt_hash": _version_hash(found)}


def show(client: Any, crew: str, requested: str | None = None) -> dict[str, Any]:
    """Which version and hash ``requested`` (default: what a run would be served) names, and whether its
    text is the YAML files on disk."""
    from crews.registry import crew_config_dir, prompt_hash

    choice = selector(requested)
    if choice.is_yaml or not choice.valid:
        raise PromptRegistryError(f"{choice.text!r} names no registry version (an alias name or a number)")
    version = _lookup(client, crew, choice)
    yaml_hash = prompt_hash(crew_config_dir(crew))
    hashed = _version_hash(version)
    report = {"crew": crew, "prompt": prompt_name(crew), "version": str(version.version),
              "prompt_hash": hashed, "yaml_hash": yaml_hash, "matches_yaml": hashed == yaml_hash,
              "commit_message": getattr(version, "commit_message", None)}
    if choice.alias:
        report["alias"] = choice.alias
    try:
        check_fits(split_template(version.template), config_files(crew_config_dir(crew)))
        report["servable"] = True
    except PromptTemplateError as exc:
        report["servable"], report["problem"] = False, str(exc)
    return report
