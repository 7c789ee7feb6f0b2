"""Checks of the deployment files (compose files, Dockerfiles), shared by the tests in this folder.

Every check takes a parsed document (or a path) and returns a list of problems, empty when all
is well, so a test of the project asserts ``== []`` and a test of the check feeds it a broken
document and asserts the problem is named. Nothing here needs Docker.
"""

from __future__ import annotations

import fnmatch
import importlib.resources
import json
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
SECRET_KEY = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|API_KEY", re.I)
URL_PASSWORD = re.compile(r"://[^:/@\s]*:([^@\s]*)@")


# --- loading and interpolation --------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(Path(path).read_text())  # SafeLoader resolves anchors and << merge keys


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as docker compose reads a .env file (comments, blank lines, quotes)."""
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        env[key.strip()] = value
    return env


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text.startswith("${", i):
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unclosed ${{ in {text!r}")


def interpolate_text(text: str, env: Mapping[str, str], where: str, problems: list[str]) -> str:
    """Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+r},
    ${VAR+r}."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            end = _closing_brace(text, i)
            out.append(_substitute(text[i + 2:end], env, where, problems))
            i = end + 1
        elif text[i] == "$" and (m := re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i + 1:])):
            out.append(_substitute(m.group(0), env, where, problems))
            i += 1 + m.end()
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _substitute(expr: str, env: Mapping[str, str], where: str, problems: list[str]) -> str:
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?$", expr, re.S)
    if not m:
        problems.append(f"{where}: bad variable reference ${{{expr}}}")
        return ""
    name, op, arg = m.group(1), m.group(2), m.group(3) or ""
    value = env.get(name)
    is_set, non_empty = value is not None, bool(value)
    present = non_empty if op and op.startswith(":") else is_set
    if op in (":-", "-"):
        return value if present else interpolate_text(arg, env, where, problems)
    if op in (":?", "?"):
        if not present:
            problems.append(f"{where}: required variable {name} is missing: {arg}")
            return ""
        return value
    if op in (":+", "+"):
        return interpolate_text(arg, env, where, problems) if present else ""
    if not is_set:
        problems.append(f"{where}: variable {name} is not set and has no default (compose would use '')")
        return ""
    return value


def interpolate(node: Any, env: Mapping[str, str], where: str = "") -> tuple[Any, list[str]]:
    """The document with every string value interpolated, and the problems met on the way."""
    problems: list[str] = []

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, str):
            return interpolate_text(value, env, path, problems)
        if isinstance(value, dict):
            return {key: walk(item, f"{path}/{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, f"{path}/{index}") for index, item in enumerate(value)]
        return value

    return walk(node, where), problems


# --- the Compose specification schema --------------------------------------------------------


@cache
def compose_schema() -> dict[str, Any]:
    """The Compose specification's JSON schema as vendored by check-jsonschema (vendor.compose-spec)."""
    path = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(path.read_text())


def schema_problems(doc: Any) -> list[str]:
    validator = Draft202012Validator(compose_schema())
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


# --- services ---------------------------------------------------------------------------------


def services(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return dict((doc or {}).get("services") or {})


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def command_text(service: Mapping[str, Any]) -> str:
    command = service.get("command") or ""
    return command if isinstance(command, str) else " ".join(map(str, command))


def image_ref(image: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:], digest or None
    return name, None, digest or None


def _is_one_shot(service: Mapping[str, Any]) -> bool:
    return str(service.get("restart", "no")) == "no"


def defines_container(service: Mapping[str, Any]) -> bool:
    """Has an image or a build: a service of its own, not an override of someone else's."""
    return bool(service.get("image") or service.get("build"))


def check_service_sources(doc: Mapping[str, Any], external: Iterable[str] = ()) -> list[str]:
    """Every service has an image or a build, unless it overrides a service defined elsewhere."""
    external = set(external)
    return [
        f"service {name}: neither image nor build (and not one of the services this file extends: "
        f"{sorted(external)})"
        for name, svc in services(doc).items()
        if not defines_container(svc) and name not in external
    ]


def check_paths(doc: Mapping[str, Any], base: Path) -> list[str]:
    """Build contexts, Dockerfiles, bind-mount sources, required env files and config/secret files exist."""
    problems = []
    for name, svc in services(doc).items():
        build = svc.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if not (base / context).is_dir():
                problems.append(f"service {name}: build context {context} does not exist")
            elif not (base / context / dockerfile).is_file():
                problems.append(f"service {name}: dockerfile {dockerfile} does not exist in {context}")
        for volume in svc.get("volumes") or []:
            source = bind_source(volume)
            if source is not None and not (base / Path(source).expanduser()).exists():
                problems.append(f"service {name}: bind-mount source {source} does not exist")
        env_files = svc.get("env_file") or []
        for entry in [env_files] if isinstance(env_files, (str, dict)) else env_files:
            path, required = ((entry, True) if isinstance(entry, str)
                              else (entry["path"], entry.get("required", True)))
            if required and not (base / path).is_file():
                problems.append(f"service {name}: env_file {path} is required and does not exist")
    for kind in ("configs", "secrets"):
        for key, item in ((doc or {}).get(kind) or {}).items():
            if isinstance(item, dict) and item.get("file") and not (base / item["file"]).exists():
                problems.append(f"{kind}.{key}: file {item['file']} does not exist")
    return problems


def bind_source(volume: Any) -> str | None:
    """The host path of a bind mount (short or long syntax), None for named volumes and tmpfs."""
    if isinstance(volume, dict):
        return volume.get("source") if volume.get("type") == "bind" else None
    source = str(volume).split(":", 1)[0]
    return source if source.startswith((".", "/", "~")) else None


def check_image_tags(doc: Mapping[str, Any]) -> list[str]:
    """Every image names a tag (or digest) and the tag is not 'latest'."""
    problems = []
    for name, svc in services(doc).items():
        if not svc.get("image"):
            continue
        _, tag, digest = image_ref(str(svc["image"]))
        if digest:
            continue
        if tag is None:
            problems.append(f"service {name}: image {svc['image']} has no tag (that means latest)")
        elif tag == "latest":
            problems.append(f"service {name}: image {svc['image']} uses the tag latest")
    return problems


def published_ports(service: Mapping[str, Any]) -> Iterator[tuple[str | None, str | None, str]]:
    """(host_ip, host_port, original) of every ports entry."""
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            published = entry.get("published")
            yield entry.get("host_ip"), None if published in (None, "") else str(published), str(entry)
            continue
        spec = str(entry).split("/", 1)[0]
        parts = spec.rsplit(":", 2)
        if len(parts) == 3:
            yield parts[0].strip("[]"), parts[1] or None, str(entry)
        elif len(parts) == 2:
            yield None, parts[0], str(entry)
        else:
            yield None, None, str(entry)


def check_ports(doc: Mapping[str, Any], taken: Mapping[str, str] | None = None) -> list[str]:
    """Every published port binds 127.0.0.1, and no host port is published twice.

    ``taken`` maps host ports already published by services defined elsewhere (Astro's) to them.
    """
    problems, owners = [], dict(taken or {})
    for name, svc in services(doc).items():
        for host_ip, host_port, entry in published_ports(svc):
            if host_ip != LOOPBACK:
                problems.append(f"service {name}: port {entry} is published on every interface; "
                                f"bind it to {LOOPBACK}")
            if host_port is None:
                continue
            for port in _port_range(host_port):
                if port in owners:
                    problems.append(f"service {name}: host port {port} is also published by {owners[port]}")
                owners[port] = name
    return problems


def _port_range(text: str) -> list[str]:
    if "-" in text:
        low, high = text.split("-", 1)
        return [str(p) for p in range(int(low), int(high) + 1)]
    return [text]


def check_depends_on(doc: Mapping[str, Any], external: Iterable[str] = ()) -> list[str]:
    """Every depends_on target exists; a service_healthy target has a healthcheck."""
    problems, known = [], services(doc)
    external = set(external)
    for name, svc in known.items():
        deps = svc.get("depends_on") or {}
        deps = {dep: {} for dep in deps} if isinstance(deps, list) else deps
        for dep, spec in deps.items():
            if dep not in known and dep not in external:
                problems.append(f"service {name}: depends_on {dep}, which is not a service")
            elif (dep in known and (spec or {}).get("condition") == "service_healthy"
                  and not _has_healthcheck(known[dep])):
                problems.append(f"service {name}: waits for {dep} to be healthy, but {dep} has no "
                                "healthcheck")
    return problems


def _has_healthcheck(service: Mapping[str, Any]) -> bool:
    check = service.get("healthcheck") or {}
    return bool(check.get("test")) and not check.get("disable") and check.get("test") != ["NONE"]


def check_healthchecks(doc: Mapping[str, Any]) -> list[str]:
    """Every long-running service this file defines (a restart policy other than 'no') has a healthcheck."""
    return [
        f"service {name}: long-running (restart: {svc.get('restart')}) but has no healthcheck"
        for name, svc in services(doc).items()
        if defines_container(svc) and not _is_one_shot(svc) and not _has_healthcheck(svc)
    ]


def check_scalable(doc: Mapping[str, Any], name: str) -> list[str]:
    """`docker compose up --scale NAME=N` works: no fixed container name, hostname or host port."""
    svc = services(doc).get(name)
    if svc is None:
        return [f"service {name} does not exist"]
    problems = [f"service {name}: {key} is fixed ({svc[key]}), so replicas would clash"
                for key in ("container_name", "hostname") if svc.get(key)]
    problems += [f"service {name}: publishes host port {port}, so a second replica could not bind it"
                 for _, port, _ in published_ports(svc) if port]
    return problems


def check_celery(doc: Mapping[str, Any]) -> list[str]:
    """CeleryExecutor everywhere, one broker (a Redis service) and one result backend (the metadata
    Postgres)."""
    known = services(doc)
    airflow = {name: environment(svc) for name, svc in known.items()
               if "AIRFLOW__CORE__EXECUTOR" in environment(svc)}
    if not airflow:
        return ["no service sets AIRFLOW__CORE__EXECUTOR"]
    problems = [f"service {name}: executor is {env['AIRFLOW__CORE__EXECUTOR']}, not CeleryExecutor"
                for name, env in airflow.items() if env["AIRFLOW__CORE__EXECUTOR"] != "CeleryExecutor"]
    keys = ("AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    values = {}
    for key in keys:
        found = {env.get(key, "") for env in airflow.values()}
        if len(found) != 1 or "" in found:
            problems.append(f"{key} is missing or differs between the Airflow services: {sorted(found)}")
        values[key] = sorted(found)[0]

    def service_with_image(host: str | None, prefix: str) -> bool:
        return host in known and str(known[host].get("image", "")).split("/")[-1].startswith(prefix)

    broker = urlsplit(values[keys[0]])
    if broker.scheme not in ("redis", "rediss") or not service_with_image(broker.hostname, "redis"):
        problems.append(f"broker {values[keys[0]]!r} is not a Redis service of this file")
    backend, metadata = urlsplit(values[keys[1]]), urlsplit(values[keys[2]])
    if not backend.scheme.startswith("db+postgresql") or not service_with_image(backend.hostname, "postgres"):
        problems.append(f"result backend {values[keys[1]]!r} is not a db+postgresql URL of a Postgres "
                        "service")
    elif (backend.hostname, backend.path) != (metadata.hostname, metadata.path):
        problems.append("the result backend is not the metadata database")
    workers = [name for name in airflow if re.search(r"\bcelery\s+worker\b", command_text(known[name]))]
    if not workers:
        problems.append("no service runs `celery worker`")
    for worker in workers:
        deps = known[worker].get("depends_on") or {}
        if broker.hostname not in deps:
            problems.append(f"service {worker}: does not depend on the broker {broker.hostname}")
    if not any(command_text(known[name]).split()[:1] == ["scheduler"] for name in airflow):
        problems.append("no service runs the scheduler")
    return problems


def check_no_literal_secrets(doc: Mapping[str, Any]) -> list[str]:
    """On the raw (not interpolated) document: passwords and secrets come from ${...}, never literals."""
    problems = []
    for name, svc in services(doc).items():
        for key, value in environment(svc).items():
            if (SECRET_KEY.search(key) and not key.endswith(("_FILE", "_USERS")) and value
                    and "${" not in value):
                problems.append(f"service {name}: {key} is a literal; take it from .env with ${{...}}")
            problems += _url_passwords(f"service {name}: {key}", value)
        problems += _url_passwords(f"service {name}: command", command_text(svc))
    return problems


def _url_passwords(where: str, text: str) -> list[str]:
    return [f"{where} has a literal password in a URL" for password in URL_PASSWORD.findall(text)
            if password and not password.startswith("${")]


# --- Dockerfiles -------------------------------------------------------------------------------


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        line, pending = pending + line, ""
        keyword, _, args = line.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    return instructions


def base_images(path: Path) -> list[str]:
    images = []
    for keyword, args in dockerfile_instructions(path):
        if keyword == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            images.append(words[0])
    return images


def copy_sources(path: Path) -> list[str]:
    """Sources of COPY/ADD from the build context (not --from= other stages or images)."""
    sources = []
    for keyword, args in dockerfile_instructions(path):
        if keyword not in ("COPY", "ADD"):
            continue
        flags, rest = re.match(r"((?:--\S+\s+)*)(.*)", args).groups()
        if any(flag.startswith("--from") for flag in flags.split()):
            continue
        words = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
        sources += words[:-1]
    return sources


def dockerignore_patterns(context: Path) -> list[str]:
    path = Path(context) / ".dockerignore"
    if not path.is_file():
        return []
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def is_ignored(relative: str, patterns: Iterable[str]) -> bool:
    """Whether .dockerignore excludes a path (or one of its parent folders); '!' lines re-include."""
    parts = Path(relative).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if any(_matches(candidate, pattern) for candidate in candidates):
            ignored = not negate
    return ignored


def _matches(candidate: str, pattern: str) -> bool:
    if fnmatch.fnmatchcase(candidate, pattern):
        return True
    if pattern.startswith("**/"):  # any depth
        parts = candidate.split("/")
        return any(fnmatch.fnmatchcase("/".join(parts[i:]), pattern[3:]) for i in range(len(parts)))
    return False


def check_copy_sources(dockerfile: Path, context: Path) -> list[str]:
    """Every COPY/ADD source exists in the build context and is not excluded by .dockerignore."""
    problems, patterns = [], dockerignore_patterns(context)
    for source in copy_sources(dockerfile):
        if not list(Path(context).glob(source)):
            problems.append(f"{Path(dockerfile).name}: COPY source {source} does not exist in the build "
                            "context")
        elif is_ignored(source, patterns):
            problems.append(f"{Path(dockerfile).name}: COPY source {source} is excluded by .dockerignore")
    return problems


def check_base_images(dockerfile: Path) -> list[str]:
    problems = []
    for image in base_images(dockerfile):
        _, tag, digest = image_ref(image)
        if not digest and tag in (None, "latest"):
            problems.append(f"{Path(dockerfile).name}: FROM {image} is not pinned to a tag")
    return problems


def requirement_pins(path: Path) -> dict[str, str]:
    """name -> version of the ``name==version`` lines of a requirements file (extras dropped)."""
    pins = {}
    for line in Path(path).read_text().splitlines():
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins
