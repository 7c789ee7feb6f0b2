"""Plain ``Key: value`` fact sheets, the way marketing teams keep them, turned into the fact-sheet model.

    Product: Velora City E-bike
    Range: up to 80 km
    Battery: 500 Wh
    Colours: sage, charcoal or sand
    Water resistance: IP54
    Price: EUR 2,499
    Never say: waterproof, clinically proven

Each line becomes a fact: the key is its subject, the line its approved statement,
and the value is read by the same code that reads claims (a quantity with its unit
and qualifier, a range, a list of options, a code, or text). ``Never say`` (or
``Prohibited``, ``Do not claim``) lines list phrases the copy must not use. The
result is validated like any fact sheet, so a line that cannot be understood fails
the item naming the line, before any LLM call. The fact checker agent may then add
aliases (the words copy uses for each subject); code keeps only short ones that
name no other fact.
"""

from __future__ import annotations

import re
from typing import Any

from crews.errors import InputError
from crews.fact_check.quantities import find_quantities

MAX_LINES = 300
_LINE = re.compile(r"^\s*(?:[-*•]\s*)?(?P<key>[^:=\n]{1,80}?)\s*(?::|=|\s[–—]\s)\s*(?P<value>\S.*)$")
MAX_LINE = 2_000
_PRODUCT_KEYS = {"product", "product name", "name", "model"}
_PROHIBITED_KEYS = {"never say", "prohibited", "do not claim", "don't claim", "do not say", "banned claims",
                    "not allowed"}
_OPTION_SPLIT = re.compile(r"\s*(?:,|;|/|\bor\b|\band\b)\s*", re.IGNORECASE)
_CODE = re.compile(r"[A-Za-z-]*\d+[A-Za-z0-9-]*")


def looks_plain(text: str) -> bool:
    """A text sheet of ``Key: value`` lines rather than YAML or JSON with ``product`` and ``facts``."""
    if text.lstrip().startswith(("{", "[")):  # JSON
        return False
    return not re.search(r"^\s*[\"']?facts[\"']?\s*:", text, re.MULTILINE | re.IGNORECASE)


def parse_plain_sheet(text: str, source: str = "fact_sheet_file") -> dict[str, Any]:
    """The fact-sheet dict of a plain sheet; raises :class:`InputError` naming the line it cannot read."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    heading = re.match(r"^\s*#\s*(.+?)\s*$", text.strip().splitlines()[0]) if text.strip() else None
    if len(lines) > MAX_LINES:
        raise InputError(f"{source}: {len(lines)} lines; a plain fact sheet may have at most {MAX_LINES}")
    product = heading.group(1) if heading else None
    facts: list[dict[str, Any]] = []
    prohibited: list[str] = []
    ids: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if len(line) > MAX_LINE:
            raise InputError(f"{source}: line {number} has {len(line)} characters; a line may have at most "
                             f"{MAX_LINE}")
        match = _LINE.match(line)
        if not match:
            raise InputError(f"{source}: line {number} ({line.strip()[:60]!r}) is not 'Key: value'")
        key, value = match.group("key").strip(), match.group("value").rstrip()
        if key.lower() in _PRODUCT_KEYS and product is None:
            product = value
            continue
        if key.lower() in _PROHIBITED_KEYS:
            prohibited += [p for p in _OPTION_SPLIT.split(value) if p]
            continue
        fact_id = _unique(re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_") or f"line_{number}", ids)
        facts.append({"id": fact_id, "subject": key.lower(), "statement": f"{key}: {value}",
                      **read_value(value)})
    if not product:
        raise InputError(f"{source}: a plain fact sheet needs a 'Product: ...' line "
                         "(or a '# Product' heading)")
    if prohibited:
        facts.append({"id": _unique("never_say", ids), "subject": "claims the copy must not make",
                      "value": "approved wording only", "prohibited": prohibited,
                      "statement": "The copy must not claim: " + ", ".join(prohibited) + "."})
    if not facts:
        raise InputError(f"{source}: no 'Key: value' facts found")
    return {"product": product, "facts": facts}


def _unique(fact_id: str, taken: set[str]) -> str:
    candidate, n = fact_id, 2
    while candidate in taken:
        candidate, n = f"{fact_id}_{n}", n + 1
    taken.add(candidate)
    return candidate


def read_value(value: str) -> dict[str, Any]:
    """``value``/``unit``/``qualifier`` of one line's value text."""
    quantities = find_quantities(value)
    if len(quantities) == 1:
        q = quantities[0]
        unit = None if q.unit.kind == "count" else q.unit.name
        if q.is_range:
            return {"value": {"min": q.low, "max": q.high}, "unit": unit or "count"}
        return {"value": q.low, "unit": unit, "qualifier": q.qualifier}
    if (len(quantities) > 1 and len({q.unit.kind for q in quantities}) == 1
            and not any(q.is_range for q in quantities)):
        unit = None if quantities[0].unit.kind == "count" else quantities[0].unit.name
        same_unit = [q.to(quantities[0].unit) for q in quantities]
        return {"value": [q.low for q in same_unit if q is not None], "unit": unit}
    if len(quantities) > 1:  # "10 minutes gives 5 hours of playback": the first figure is the fact's
        first = quantities[0]
        return {"value": first.low, "unit": None if first.unit.kind == "count" else first.unit.name,
                "qualifier": first.qualifier}
    if _CODE.fullmatch(value):
        return {"value": value}
    options = [o for o in _OPTION_SPLIT.split(value) if o]
    if len(options) > 1 and all(len(o.split()) <= 3 for o in options):
        return {"value": options}
    return {"value": value}
