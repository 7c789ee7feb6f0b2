"""The prompts a crew run is served: its config YAML files from the disk or from MLflow's prompt registry.

One registry prompt per crew (``crews.<crew>``) holds all YAML files of the crew's
``config/`` folder as one text, each file after a ``# --- <file>`` line. The
registry uses MLflow's ``{{name}}`` placeholders, the files CrewAI's ``{name}``:
:func:`to_registry` and :func:`from_registry` convert one into the other, exactly.

The runner resolves what to serve (see ``crews.tracking.prompts.load_served``)
and sets it around ``spec.run`` with :func:`serving`; a crew calls
:func:`use_served_prompts` in its ``__init__`` so CrewAI's config loader reads
``agents.yaml`` / ``tasks.yaml`` from the served text. With nothing served (unit
tests, a crew built directly) or a file the served prompts do not hold, the file
on disk is read as before. Other YAML files that code reads itself
(``contract_qa/config/synonyms.yaml``, ``data_qa/config/severity.yaml``) are part
of the registered text (and of the hash) but are always read from the disk.

No MLflow here: this module is imported by the crews themselves.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_ALIAS = "production"
ALIAS_ENV = "CREWS_PROMPT_ALIAS"
VERSION_ENV = "CREWS_PROMPT_VERSION"
YAML_SELECTOR = "yaml"  # serve the files on disk, asked for on purpose (not a fallback)
# What may select a prompt version: an alias name or a version number (the DAG Param uses the same pattern).
SELECTOR_PATTERN = r"^(?:[A-Za-z][A-Za-z0-9_-]{0,63}|[0-9]{1,9})$"
# The files CrewAI's CrewBase loads through ``load_yaml`` (our crews' agents_config / tasks_config).
SERVED_FILES = ("agents.yaml", "tasks.yaml")

# CrewAI's placeholder, as in crewai.utilities.string_utils._VARIABLE_PATTERN (a test keeps them equal).
CREWAI_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_\-]*)}")
REGISTRY_VARIABLE = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_\-]*)}}")
_HEADER = re.compile(r"^# --- ([^\n]*)\n", re.MULTILINE)
_FILE_NAME = re.compile(r"[A-Za-z0-9_.-]+\.ya?ml")


class PromptTemplateError(ValueError):
    """A registered template that cannot be split back into the crew's config files."""


def to_registry(text: str) -> str:
    """CrewAI's ``{name}`` placeholders as MLflow's ``{{name}}``."""
    return CREWAI_VARIABLE.sub(r"{{\1}}", text)


def from_registry(text: str) -> str:
    """MLflow's ``{{name}}`` placeholders back as CrewAI's ``{name}`` (the inverse of :func:`to_registry`)."""
    return REGISTRY_VARIABLE.sub(r"{\1}", text)


def template_hash(template: str) -> str:
    """sha256 (first 16 hex digits) of a registry-form template: a prompt version's ``prompt_hash``."""
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:16]


def config_files(config_dir: Path) -> dict[str, str]:
    """The crew's YAML config files (name -> text), in name order."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(Path(config_dir).glob("*.y*ml"))}


def build_template(files: dict[str, str]) -> str:
    """The registry text of CrewAI-form ``files``: each after a ``# --- <file>`` line, placeholders as
    ``{{name}}``."""
    return "\n".join(f"# --- {name}\n{to_registry(text)}" for name, text in files.items())


def split_template(template: str) -> dict[str, str]:
    """The CrewAI-form files of a registry text (the inverse of :func:`build_template`).

    Raises :class:`PromptTemplateError` when the text is not a sequence of
    ``# --- <file>.yaml`` sections.
    """
    headers = list(_HEADER.finditer(template))
    if not headers or headers[0].start() != 0:
        raise PromptTemplateError("the text does not start with a '# --- <file>.yaml' line")
    files: dict[str, str] = {}
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        name = header.group(1)
        if not _FILE_NAME.fullmatch(name):
            raise PromptTemplateError(f"'# --- {name}' does not name a YAML file")
        if name in files:
            raise PromptTemplateError(f"{name} appears twice")
        body = template[header.end(): following.start() if following else len(template)]
        if following is not None:
            if not body.endswith("\n"):
                raise PromptTemplateError(f"no blank line between {name} and {following.group(1)}")
            body = body[:-1]  # the separator build_template puts between files
        files[name] = from_registry(body)
    if build_template(files) != template:
        raise PromptTemplateError("the text does not split into files exactly")
    return files


def check_fits(files: dict[str, str], disk: dict[str, str]) -> None:
    """Raise :class:`PromptTemplateError` unless ``files`` can replace the crew's ``disk`` files for its code.

    Every served file the crew has on disk must be there and parse as a mapping with
    at least the same top-level entries (agents, tasks) as the file on disk, and use
    no placeholder the disk files do not use (the code supplies only those).
    """
    known = {name for text in disk.values() for name in CREWAI_VARIABLE.findall(text)}
    for name in SERVED_FILES:
        if name not in disk:
            continue
        if name not in files:
            raise PromptTemplateError(f"it has no {name}")
        try:
            served = yaml.safe_load(files[name])
        except yaml.YAMLError as exc:
            raise PromptTemplateError(f"{name} is not valid YAML: {str(exc).splitlines()[0]}") from exc
        if not isinstance(served, dict):
            raise PromptTemplateError(f"{name} is not a mapping")
        missing = sorted(set(yaml.safe_load(disk[name]) or {}) - set(served))
        if missing:
            raise PromptTemplateError(f"{name} lacks {', '.join(missing)}, which the code uses")
        unknown = sorted(set(CREWAI_VARIABLE.findall(files[name])) - known)
        if unknown:
            raise PromptTemplateError(f"{name} uses {', '.join('{' + v + '}' for v in unknown)}, "
                                      "which the code does not supply")


@dataclass(frozen=True)
class ServedPrompts:
    """What one crew run is served, and where it came from.

    ``source`` is ``registry`` (``version`` of prompt ``crews.<crew>``, reached by
    ``alias`` or by number) or ``yaml`` (the files on disk; ``fallback`` says why
    when the registry was asked for and could not serve; ``alias`` is then None).
    ``template`` is the
    registry-form text and ``prompt_hash`` its hash, the same for the same text
    from either source. ``requested`` is the selector asked for.
    """

    crew: str
    config_dir: Path
    template: str
    prompt_hash: str
    source: str
    requested: str
    version: str | None = None
    alias: str | None = None
    fallback: str | None = None
    files: dict[str, str] = field(default_factory=dict, repr=False)

    def text_for(self, path: Path) -> str | None:
        """The served text of config file ``path``, or None (read it from the disk)."""
        path = Path(path)
        if path.name not in self.files or path.name not in SERVED_FILES:
            return None
        if path.parent.resolve() != Path(self.config_dir).resolve():
            return None
        return self.files[path.name]

    def tags(self) -> dict[str, str]:
        """The run tags: ``prompt_source``, ``prompt_requested``, and ``prompt_version`` / ``prompt_alias`` /
        ``prompt_fallback`` when they apply (the writer adds ``prompt_version`` for the YAML's version)."""
        tags = {"prompt_hash": self.prompt_hash, "prompt_source": self.source,
                "prompt_requested": self.requested}
        if self.alias:
            tags["prompt_alias"] = self.alias
        if self.source == "registry" and self.version:
            tags["prompt_version"] = self.version
        if self.fallback:
            tags["prompt_fallback"] = self.fallback[:500]
        return tags

    def info(self) -> dict[str, Any]:
        """A JSON-safe description (what :func:`crews.runner.run_item` returns under ``prompt``)."""
        return {"source": self.source, "version": self.version, "alias": self.alias,
                "requested": self.requested, "prompt_hash": self.prompt_hash, "fallback": self.fallback}


def yaml_prompts(crew: str, config_dir: Path, requested: str, fallback: str | None = None) -> ServedPrompts:
    """The crew's YAML files on disk as served prompts (``fallback``: why the registry did not serve)."""
    files = config_files(config_dir)
    template = build_template(files)
    return ServedPrompts(crew, Path(config_dir), template, template_hash(template), "yaml", requested,
                         fallback=fallback, files=files)


@dataclass(frozen=True)
class Selector:
    """Which prompt version to serve: an alias, a version number, or the YAML files."""

    text: str

    @property
    def is_yaml(self) -> bool:
        return self.text == YAML_SELECTOR

    @property
    def version(self) -> str | None:
        return self.text if self.text.isdigit() else None

    @property
    def alias(self) -> str | None:
        return None if self.is_yaml or self.text.isdigit() else self.text

    @property
    def valid(self) -> bool:
        return re.fullmatch(SELECTOR_PATTERN, self.text) is not None


def selector(requested: str | int | None = None) -> Selector:
    """``requested`` (a DAG Param, a CLI option), else ``CREWS_PROMPT_VERSION``, else ``CREWS_PROMPT_ALIAS``,
    else the alias ``production``. ``yaml`` serves the files on disk."""
    for value in (requested, os.environ.get(VERSION_ENV), os.environ.get(ALIAS_ENV)):
        if value is not None and str(value).strip():
            return Selector(str(value).strip())
    return Selector(DEFAULT_ALIAS)


_served: contextvars.ContextVar[ServedPrompts | None] = contextvars.ContextVar(
    "crews_served_prompts", default=None)


def current() -> ServedPrompts | None:
    """The prompts served to the running crew, if any."""
    return _served.get()


@contextlib.contextmanager
def serving(prompts: ServedPrompts | None) -> Iterator[ServedPrompts | None]:
    """Serve ``prompts`` to the crews built inside the block (in this thread / context)."""
    token = _served.set(prompts)
    try:
        yield prompts
    finally:
        _served.reset(token)


def load_yaml(path: Path) -> dict[str, Any]:
    """CrewAI's ``load_yaml``, reading the served text of ``path`` when there is one.

    Raises ``FileNotFoundError`` like CrewAI's for a file neither served nor on disk.
    """
    served = current()
    text = served.text_for(path) if served is not None else None
    if text is None:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    content = yaml.safe_load(text)
    return content if isinstance(content, dict) else {}


def use_served_prompts(crew: object) -> None:
    """Make a ``@CrewBase`` crew load its agents/tasks config through :func:`load_yaml`.

    Call it in the crew's ``__init__``: CrewBase injects ``load_yaml`` onto the class
    (replacing any class-body override) and loads the config right after ``__init__``;
    an instance attribute shadows the class's.
    """
    crew.load_yaml = load_yaml  # type: ignore[attr-defined]
