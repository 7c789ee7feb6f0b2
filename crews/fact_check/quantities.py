"""Quantities in copy and fact sheets: numbers with units, qualifiers and ranges.

Units are pint units (SI and imperial, data sizes and rates, energy, areas, ...);
money is a currency by ISO 4217 code or symbol (the list comes from Babel) and is
never converted: a price in another currency is a different kind of quantity.
Finding quantities in text is a bounded scan (linear regexes over copy of at most
20,000 characters); pint decides what a unit word means.

>>> [q.describe() for q in find_quantities("up to 80 km, a 1 h 30 min charge and €2,499")]
['up to 80 km', '90 min', '2499 EUR']
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

Qualifier = Literal["exact", "up_to", "at_least", "over", "under", "about", "from"]
QUALIFIERS: tuple[str, ...] = ("exact", "up_to", "at_least", "over", "under", "about", "from")
ABOUT = 0.10  # "about 80 km" holds for 72..88 km

# currency symbols; codes come from Babel's ISO 4217 list
_SYMBOLS = {"€": "EUR", "£": "GBP", "$": "USD", "US$": "USD", "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB",
            "A$": "AUD", "C$": "CAD", "Fr.": "CHF", "kr": "SEK"}
# unit words people write that pint spells differently (looked up case-sensitively, then lower-cased)
_UNIT_ALIASES = {
    "hrs": "hour", "hr": "hour", "mins": "minute", "secs": "second", "sec": "second", "yrs": "year",
    "yr": "year", "mo": "month", "mos": "month", "wk": "week", "wks": "week", "lbs": "pound",
    "kph": "km/h", "kmh": "km/h", "mph": "mile/hour", "sqft": "ft**2", "sqm": "m**2",
    "bps": "bit/s", "kbps": "kbit/s", "Kbps": "kbit/s", "Mbps": "Mbit/s", "Gbps": "Gbit/s", "Tbps": "Tbit/s",
    "MBps": "MB/s", "GBps": "GB/s", "mbps": "Mbit/s", "gbps": "Gbit/s",
    "inches": "inch", "″": "inch", '"': "inch", "litres": "liter", "litre": "liter", "metres": "meter",
    "metre": "meter", "kilometres": "kilometer", "kilometre": "kilometer", "centimetres": "centimeter",
    "centimetre": "centimeter", "millimetres": "millimeter", "millimetre": "millimeter",
    "working days": "working_day", "working day": "working_day", "business days": "business_day",
    "business day": "business_day", "workdays": "workday", "nights": "night", "calendar days": "day",
    "calendar day": "day", "Nm": "N*m", "MP": "megapixel", "Mpx": "megapixel", "mAH": "mAh", "MAH": "mAh",
    "mah": "mAh", "wh": "Wh", "db": "dB", "kwh": "kWh", "KWh": "kWh", "Kg": "kg", "KG": "kg", "KM": "km",
    "Km": "km", "ML": "ml", "percent": "percent", "per cent": "percent", "°C": "degC", "ºC": "degC",
    "°F": "degF", "ºF": "degF", "C°": "degC",
}
# words pint knows as units that copy uses as ordinary words, or letters too ambiguous alone
_NOT_UNITS = frozenset({
    "a", "at", "in", "is", "it", "or", "to", "on", "as", "pi", "point", "points", "C", "G", "K", "T", "P",
    "B", "F", "N", "S", "M", "E", "R", "H", "U", "X", "Y", "Z", "ha", "mo", "cup", "cups", "bag", "bags",
    "count", "counts", "stone", "stones", "tex", "pt", "ct", "u", "x", "b", "e", "d", "t", "c", "y", "hand",
    "hands", "gal", "ton", "tons", "barn", "are", "rad", "gray", "light", "lights", "atom", "atoms", "mil",
    "sun", "percent_", "unit", "units", "cc", "pm", "am", "star", "stars", "candle", "candles", "quad",
    "line", "lines", "shot", "shots", "rod", "rods", "chain", "chains", "link", "links", "pace", "paces",
    "cycle", "cycles", "scruple", "dram", "fortnight", "century", "bit", "bits", "byte", "bytes", "galileo",
    "hertz", "poise", "knot", "knots", "speed", "grade", "turn", "turns", "revolution", "nit", "nits",
})
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100, "a dozen": 12, "dozen": 12, "half": 0.5,
    "twin": 2, "dual": 2, "triple": 3,
}
_QUALIFIER_WORDS: list[tuple[str, Qualifier]] = [
    (r"just over|just above|slightly more than|a little over", "over"),
    (r"up to|upto|as much as|as many as|a maximum of|max\.?|maximum|no more than|not more than", "up_to"),
    (r"at least|a minimum of|min\.?|minimum|no less than|not less than|as little as|as low as", "at_least"),
    (r"more than|over|above|in excess of|beyond|exceeding", "over"),
    (r"less than|under|below|fewer than|just under|shy of", "under"),
    (r"about|around|approx\.?|approximately|roughly|nearly|almost|some|close to|circa|ca\.|~|≈", "about"),
    (r"from|starting at|starting from|starts at|beginning at", "from"),
]
_QUALIFIER_BEFORE = re.compile(
    r"(?:^|(?<=[\s(]))(" + "|".join(p for p, _ in _QUALIFIER_WORDS) + r")\s*$", re.IGNORECASE)
_QUALIFIER_AFTER = re.compile(r"^\s*(\+|or more|or higher|or longer|plus|or less|or fewer|max\b|maximum\b)",
                              re.IGNORECASE)

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_WORDNUM = (r"\b(?:" + "|".join(sorted((w for w in _NUMBER_WORDS if w != "half"), key=len, reverse=True))
            + r")\b")
_CUR_BEFORE = r"(?:US\$|A\$|C\$|[€£$¥₹₩₽]|\b[A-Z]{3}\b\s?)"
_UNIT_WORD = (r"(?:working|business|calendar)\s+days?"
              r"|(?:sq\.?\s?|square\s|cubic\s)?[A-Za-z°º℃µμΩ%″\"]+[²³]?(?:\s?(?:/|per)\s?[A-Za-z]+[²³]?)?")
_SCAN = re.compile(
    rf"(?P<cur>{_CUR_BEFORE})?(?P<neg>[-−](?=\d))?"
    rf"(?P<num>(?<![\w.,])(?:{_NUM})|{_WORDNUM}|\ban?\b(?=\s+(?:hour|minute|day|week|month|year))"
    r"|\bhalf(?=[- ](?:hour|day|year)\b))"  # "a half-hour wash", "half day"
    rf"(?P<plus>\+)?(?P<sep>\s?-\s?|\s?)(?P<unit>{_UNIT_WORD}|%)?",
    re.IGNORECASE,
)
_PERIOD = re.compile(r"^\s*(?:/|per|a|an|each)\s*(?:(?:user|seat)\s*(?:/|per)\s*)?"
                     r"(?P<period>month|mo|year|yr|week|day|user|seat)\b", re.IGNORECASE)
_AND_A_HALF = re.compile(r"^\s*and a half\b", re.IGNORECASE)
_DURATION_JOINER = re.compile(r"^\s*(?:and\s+|,\s*)?$", re.IGNORECASE)
_RANGE_JOINER = re.compile(r"^\s*(?:-|–|—|to|until|through)\s*$", re.IGNORECASE)
_BETWEEN = re.compile(r"\b(?:between|from)\s*$", re.IGNORECASE)
_DIMENSION_AFTER = re.compile(r"\s+(?:wide|long|tall|high|deep|thick|across|diagonal|screen|display|"
                              r"in (?:width|length|height|depth|diameter))\b", re.IGNORECASE)


@functools.cache
def registry():  # noqa: ANN201  (pint's UnitRegistry; imported lazily, it takes ~0.4 s)
    import pint

    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    for definition in ("bps = bit / second", "night = day",  # "a 100-night trial"
                       "business_day = [business_time] = working_day = workday"):  # never calendar days
        if definition.split(" = ")[0] not in ureg:  # pint warns when a unit is defined twice
            ureg.define(definition)
    return ureg


@functools.cache
def currencies() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


def currency_code(text: str) -> str | None:
    """The ISO 4217 code ``text`` names (``"€"`` -> ``"EUR"``, ``"gbp"`` -> ``"GBP"``), or None."""
    text = text.strip()
    if text in _SYMBOLS:
        return _SYMBOLS[text]
    upper = text.upper()
    if upper in currencies():
        return upper
    return {"euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD", "pound": None}.get(text.lower())


@dataclass(frozen=True)
class Unit:
    """A pint unit or a currency (optionally per billing period)."""

    name: str  # pint's canonical unit, or an ISO 4217 code (with "/month" etc.)
    kind: str  # what can be compared: pint root units, "currency:EUR/month", "percent", "count"

    @property
    def is_currency(self) -> bool:
        return self.kind.startswith("currency:")


COUNT = Unit("", "count")


@functools.cache
def parse_unit(text: str, in_copy: bool = True) -> Unit | None:
    """The unit a word or short expression names, or None when pint does not know it.

    In copy (``in_copy``) words that are also ordinary words or bare capitals ("in",
    "points", "G") are not units; a fact sheet's ``unit`` field may use them, and may
    spell a symbol in lower case ("w", "gb").
    """
    raw = " ".join(text.split()).strip(".")
    if not raw or len(raw) > 40 or (in_copy and raw in _NOT_UNITS):
        return None
    code, _, period = raw.partition("/")
    if currency_code(code) and (not period or period.lower() in _PERIODS):
        name = currency_code(code) + (f"/{_PERIODS[period.lower()]}" if period else "")
        return Unit(name, f"currency:{name}")
    spellings = _unit_spellings(raw)
    if not in_copy:
        spellings += [s for s in (raw.upper() if raw.islower() and len(raw) <= 3 else "",
                                  _UNIT_ALIASES.get(raw.lower(), "")) if s]
    for candidate in spellings:
        if in_copy and candidate in _NOT_UNITS:
            continue
        unit = _pint_unit(candidate)
        if unit is not None:
            return unit
    return None


_PERIODS = {"month": "month", "mo": "month", "year": "year", "yr": "year", "week": "week", "day": "day",
            "user": "user", "seat": "seat"}


def _unit_spellings(raw: str) -> list[str]:
    text = re.sub(r"^(?:sq\.?\s?|square\s)(\w+)", r"\1**2", raw, flags=re.IGNORECASE)
    text = re.sub(r"^cubic\s(\w+)", r"\1**3", text, flags=re.IGNORECASE)
    text = text.replace("²", "**2").replace("³", "**3").replace(" per ", "/").replace(" / ", "/")
    spellings = [_UNIT_ALIASES.get(text, text)]
    if text.lower() in _UNIT_ALIASES:
        spellings.append(_UNIT_ALIASES[text.lower()])
    if "/" in text:
        head, tail = text.split("/", 1)
        spellings.append(f"{_UNIT_ALIASES.get(head, head)}/{_UNIT_ALIASES.get(tail, tail)}")
    return spellings


# pint units that capitals in copy and sheets parse into by accident ("EU" = exa-enzyme-unit,
# "MP" = megapoise)
_EXOTIC = ("enzyme", "entropy", "poise", "number", "gauss", "stokes", "galileo", "franklin", "gilbert",
           "oersted", "maxwell", "debye", "roentgen", "curie", "abampere", "statampere", "abvolt", "statvolt",
           "katal", "barn", "planck", "atomic", "electron", "bohr", "hartree", "rydberg", "dalton",
           "svedberg", "fermi", "gamma", "lambert", "langley", "kayser", "rhe", "reyn", "biot", "jansky",
           "denier", "tex", "unit_pole", "sverdrup")


def _pint_unit(text: str) -> Unit | None:
    import pint

    ureg = registry()
    try:
        unit = ureg.parse_units(text)
    except (pint.errors.PintError, AttributeError, TypeError, ValueError, SyntaxError, KeyError):
        return None
    if unit == ureg.dimensionless:
        return None
    name = str(unit)
    if any(part in name for part in _EXOTIC):
        return None
    if unit.dimensionless:
        root = str(ureg.get_root_units(unit)[1])
        kind = "bit" if "bit" in root else (name if name in ("percent", "decibel") else None)
        if kind is None:
            return None  # permille, ppm, radians ...: not what copy means
        return Unit(name, kind)
    root = str(ureg.get_root_units(unit)[1])
    if "radian" in root or "steradian" in root:
        return None
    return Unit(name, root)


@dataclass(frozen=True)
class Quantity:
    """A stated amount: a number or range in a unit, with what the wording claims about it."""

    low: float
    high: float
    unit: Unit
    qualifier: Qualifier = "exact"
    text: str = ""
    start: int = 0
    end: int = 0
    precision: float = 0.0  # half of the last stated digit, in ``unit``

    @property
    def value(self) -> float:
        return self.low

    @property
    def is_range(self) -> bool:
        return self.high != self.low

    def describe(self) -> str:
        words = {"exact": "", "up_to": "up to ", "at_least": "at least ", "over": "over ", "under": "under ",
                 "about": "about ", "from": "from "}
        amount = f"{self.low:g}" + (f"-{self.high:g}" if self.is_range else "")
        unit = self.unit.name.replace("minute", "min").replace("hour", "h")
        return f"{words[self.qualifier]}{amount}{' ' + unit if unit else ''}"

    def to(self, unit: Unit) -> Quantity | None:
        """This quantity in ``unit`` (None when the two cannot be compared)."""
        if unit.kind != self.unit.kind:
            return None
        if unit.name == self.unit.name or unit.is_currency or unit.kind == "count":
            return self
        ureg = registry()
        try:
            low, high = (ureg.Quantity(v, self.unit.name).to(unit.name).magnitude
                         for v in (self.low, self.high))
            precision = abs(ureg.Quantity(self.precision, self.unit.name).to(unit.name).magnitude
                            - ureg.Quantity(0, self.unit.name).to(unit.name).magnitude)
        except Exception:  # noqa: BLE001  (pint raises several kinds for offset/log units)
            return None
        return Quantity(low, high, unit, self.qualifier, self.text, self.start, self.end, precision)


def _number(raw: str) -> float:
    raw = raw.lower().strip()
    if raw in ("a", "an"):
        return 1.0
    if raw in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[raw])
    return float(raw.replace(",", ""))


def _precision(raw: str) -> float:
    """How far a stated number may be from the true one by rounding: half its last digit, at most 1 %."""
    raw = raw.replace(",", "")
    if not raw[:1].isdigit() and not raw.startswith("."):
        return 0.0
    decimals = len(raw.split(".", 1)[1]) if "." in raw else 0
    return min(0.5 * 10 ** -decimals, 0.01 * abs(float(raw)))


def _qualifier(before: str, after: str) -> Qualifier:
    window = before[-40:]
    match = _QUALIFIER_BEFORE.search(window)
    if match and re.match(r"(?:min|max)\b", match.group(1), re.IGNORECASE) and \
            re.search(r"\d\s*$", window[:match.start(1)]):
        match = None  # "30 min 1 h": the unit of the number before, not "minimum"
    if match:
        word = match.group(1).lower()
        for pattern, qualifier in _QUALIFIER_WORDS:
            if re.fullmatch(pattern, word, re.IGNORECASE):
                return qualifier
    after_match = _QUALIFIER_AFTER.match(after[:20])
    if after_match:
        word = after_match.group(1).lower()
        return "up_to" if word in ("or less", "or fewer", "max", "maximum") else "at_least"
    return "exact"


def qualifier_start(text: str, start: int) -> int:
    """Where the qualifier before the quantity at ``start`` begins ("at least 80 km" -> the "a"), else
    ``start``."""
    window = text[max(0, start - 40):start]
    match = _QUALIFIER_BEFORE.search(window)
    return start - (len(window) - match.start(1)) if match else start


def find_quantities(text: str, allow: frozenset[str] = frozenset()) -> list[Quantity]:
    """Every quantity stated in ``text``, with its character span.

    A number without a recognised unit is a count (``"three colours"``); a number
    glued to other characters (``IPX4``, ``5G``, ``A-15``) is not a quantity;
    adjacent durations are one quantity (``"1 h 30 min"``, ``"an hour and a half"``);
    ``"38-46"``, ``"20 °C to 40 °C"`` and ``"between 38 and 46 cm"`` are ranges.
    Unit words that are also ordinary words ("in") count only when in ``allow``.
    """
    found = [q for match in _SCAN.finditer(text) if (q := _quantity(match, text, allow)) is not None]
    return _merge(found, text)


def _quantity(match: re.Match[str], text: str, allow: frozenset[str] = frozenset()) -> Quantity | None:
    start = match.start()
    num = match.group("num")
    before = text[start - 1] if start else " "
    if before.isalpha() or before in "_" or (before == "-" and start > 1 and text[start - 2].isalpha()):
        return None  # "IPX4", "A-15"
    unit: Unit | None = None
    cur_text = (match.group("cur") or "").strip()
    if cur_text:
        unit = _currency_unit(cur_text)
        if unit is None:
            start = match.start("neg") if match.group("neg") else match.start("num")  # "KPI 5": no currency
    end = match.end("plus") if match.group("plus") else match.end("num")
    unit_text = match.group("unit") or ""
    if unit is None and unit_text == "in" and _DIMENSION_AFTER.match(text[match.end("unit"):]):
        allow = allow | {"in"}  # "23.6 in wide": inches, not the word "in"
    if unit is None and unit_text:
        unit, used = _unit_prefix(unit_text, allow)
        if unit is not None:
            end = match.start("unit") + len(used)
        elif not match.group("sep") and unit_text[:1].isalpha() and num[:1].isdigit():
            return None  # "5G", "4K", "3x": a code, not a quantity
    if unit is None:
        tail = re.match(r"\s?([A-Za-z]{3,7})\b", text[end:])  # "49 EUR", "49 euros"
        if tail and (code := _currency_unit(tail.group(1))):
            unit, end = code, end + tail.end()
    if num.lower() in ("a", "an") and unit is None:
        return None
    if num.lower() == "one" and unit is None and re.match(r"\s+of\b", text[end:end + 4]):
        return None  # "one of our installers": an idiom, not a count
    unit = unit or COUNT
    if unit.is_currency and (period := _PERIOD.match(text[end:end + 40])):
        word = {"mo": "month", "yr": "year"}.get(period.group("period").lower(),
                                                 period.group("period").lower())
        unit = Unit(f"{unit.name}/{word}", f"{unit.kind}/{word}")
        end += period.end()
    value = _number(num) * (-1 if match.group("neg") else 1)
    if num.lower() in ("a", "an") and (half := re.search(r"\bhalf\s*$", text[:start], re.IGNORECASE)):
        value, start = 0.5, half.start()  # "half an hour"
    qualifier = "at_least" if match.group("plus") else _qualifier(text[:start], text[end:])
    return Quantity(value, value, unit, qualifier, text[start:end], start, end, _precision(num))


def _currency_unit(text: str) -> Unit | None:
    code = currency_code(text)
    return Unit(code, f"currency:{code}") if code else None


def _unit_prefix(unit_text: str, allow: frozenset[str] = frozenset()) -> tuple[Unit | None, str]:
    """The unit at the start of ``unit_text`` ("km/h", "sq ft", "kg of fibre" -> "kg"), and the words it
    used."""
    words = unit_text.split()
    candidates = [unit_text, *(" ".join(words[:n]) for n in range(len(words) - 1, 0, -1))]
    if "/" in unit_text:
        candidates.append(unit_text.split("/")[0])
    for candidate in candidates:
        unit = parse_unit(candidate, in_copy=candidate not in allow)
        if unit is not None:
            return unit, candidate
    return None, ""


def _merge(found: list[Quantity], text: str) -> list[Quantity]:
    """Join ranges, compound durations and "... and a half"."""
    merged: list[Quantity] = []
    for quantity in found:
        half = _AND_A_HALF.match(text[quantity.end:])
        if half and quantity.unit.kind != "count":
            quantity = _span(quantity, quantity.low + 0.5, quantity.high + 0.5, quantity.unit, text,
                             quantity.start, quantity.end + half.end())
        previous = merged[-1] if merged else None
        between = text[previous.end:quantity.start] if previous else ""
        if previous and not previous.is_range and not quantity.is_range:
            same = previous.unit.kind == "count" or previous.unit.kind == quantity.unit.kind
            if same and (_RANGE_JOINER.match(between) or (
                    re.fullmatch(r"\s*and\s*", between)
                    and _BETWEEN.search(text[max(0, previous.start - 20):previous.start]))):
                low = previous.to(quantity.unit) if previous.unit.kind != "count" else previous
                if low is not None:
                    merged[-1] = _span(previous, low.low, quantity.high, quantity.unit, text, previous.start,
                                       quantity.end)
                    continue
            if (previous.unit.kind == quantity.unit.kind == "second" and previous.unit != quantity.unit
                    and _DURATION_JOINER.match(between) and _larger(previous.unit, quantity.unit)):
                total = previous.to(quantity.unit)
                if total is not None:
                    merged[-1] = _span(previous, total.low + quantity.low, total.high + quantity.high,
                                       quantity.unit, text, previous.start, quantity.end, quantity.precision)
                    continue
        merged.append(quantity)
    return merged


def _larger(first: Unit, second: Unit) -> bool:
    """Whether one ``first`` is more than one ``second`` ("1 h 30 min": hours before minutes)."""
    try:
        return registry().Quantity(1, first.name).to(second.name).magnitude > 1
    except Exception:  # noqa: BLE001  (pint raises several kinds)
        return False


def _span(base: Quantity, low: float, high: float, unit: Unit, text: str, start: int, end: int,
          precision: float | None = None) -> Quantity:
    qualifier = base.qualifier if base.qualifier != "from" or high == low else "exact"  # "from 38 to 46"
    return Quantity(min(low, high), max(low, high), unit, qualifier, text[start:end], start, end,
                    base.precision if precision is None else precision)


_BASIS = re.compile(r"(?:\bper|/|\bevery|\bfor each|\beach)\s*$", re.IGNORECASE)


def is_basis(quantity: Quantity, text: str) -> bool:
    """A reference amount, not a claim: the "100 g" of "9.5 g of sugars per 100 g"."""
    return bool(_BASIS.search(text[max(0, quantity.start - 12):quantity.start]))


Judgement = Literal["supports", "contradicts", "unknown"]


def judge(claim: Quantity, fact: Quantity, tolerance: float = 0.0) -> Judgement:
    """Whether a claimed quantity agrees with a fact's, both in the same unit, by what each qualifier means.

    The fact says the true value is ``[low, high]`` (``up_to``: at most ``high``;
    ``at_least``/``from``: at least ``low``; ``about``: within 10 %). The claim
    must say the same: its number equals the fact's (within the fact's relative
    ``tolerance`` and the claim's rounding), or its qualifier makes a statement the
    fact makes true ("at least 25 h" of a 30 h battery). A claim that overstates a
    limit ("at least 80 km" of "up to 80 km") contradicts; one the fact can neither
    confirm nor refute is ``unknown``.
    """
    slack = max(abs(fact.high) * tolerance, claim.precision, 1e-9)

    def eq(a: float, b: float, margin: float = 0.0) -> bool:
        return abs(a - b) <= max(slack, abs(b) * margin)

    lo, hi, fq, cq = fact.low, fact.high, fact.qualifier, claim.qualifier
    margin = ABOUT if "about" in (fq, cq) else 0.0
    if claim.is_range:
        inside = lo - slack <= claim.low and claim.high <= hi + slack
        if fact.is_range or fq == "exact":
            return "supports" if inside else "contradicts"
        if fq == "up_to":
            return "supports" if eq(claim.high, hi) else ("contradicts" if claim.high > hi else "unknown")
        return "supports" if eq(claim.low, lo) else ("contradicts" if claim.low < lo else "unknown")
    value = claim.low
    if fact.is_range:  # sizes 38-46, -20..40 degC
        if cq in ("exact", "about"):
            return "supports" if lo - slack <= value <= hi + slack else "contradicts"
        if cq == "up_to":
            return "supports" if eq(value, hi) else ("contradicts" if value > hi else "unknown")
        if cq in ("from", "at_least"):
            return "supports" if eq(value, lo) or (cq == "at_least" and value <= lo) else (
                "contradicts" if value < lo or value > hi else "unknown")
        if cq == "over":
            return "supports" if hi > value else "contradicts"
        return "supports" if lo < value else "contradicts"  # under
    if fq in ("exact", "about"):
        if cq in ("exact", "up_to", "from", "about"):
            return "supports" if eq(value, lo, margin) else "contradicts"
        if cq == "at_least":
            return "supports" if lo >= value - slack else "contradicts"
        if cq == "over":
            return "supports" if lo > value else "contradicts"
        return "supports" if lo < value else "contradicts"  # under
    if fq == "up_to":  # the fact states a maximum
        if cq in ("exact", "up_to", "about"):
            return "supports" if eq(value, hi, margin) else "contradicts"
        if cq in ("at_least", "over", "from"):
            return "contradicts" if value >= hi - slack else "unknown"
        return "supports" if value >= hi - slack else "contradicts"  # "under 40 h" of "up to 30 h"
    # the fact states a minimum (at_least, from)
    if cq in ("exact", "from", "about"):
        return "supports" if eq(value, lo, margin) else ("contradicts" if value < lo else "unknown")
    if cq in ("at_least", "over"):
        return "supports" if value <= lo + (slack if cq == "at_least" else -slack) else "unknown"
    return "contradicts" if value <= lo + slack else "unknown"  # "under 5 EUR" of "from 9 EUR"
