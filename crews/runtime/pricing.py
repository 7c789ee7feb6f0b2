"""Token counts to USD: overrides in ``include/pricing.yaml``, else the genai-prices package's data.

A model's price is looked up in this order:

1. the override file (``CREWS_PRICING_FILE`` or include/pricing.yaml), by exact model name,
   for models genai-prices lacks and for negotiated prices;
2. free providers (``local``, ``ollama``, ``scripted`` unless the file lists others) cost 0;
3. genai-prices (https://github.com/pydantic/genai-prices), with the data bundled in the
   installed wheel: never fetched over the network (its ``UpdatePrices`` is not used and a
   snapshot it may have fetched elsewhere in the process is ignored);
4. otherwise the price is unknown (``known=False``, cost 0).

A genai-prices price computes each call's cost with genai-prices itself, so token tiers
and prices that change by date or time of day apply as the package defines them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crews.paths import INCLUDE_DIR

if TYPE_CHECKING:
    from genai_prices.data_snapshot import DataSnapshot

PRICING_FILE = INCLUDE_DIR / "pricing.yaml"
_DEFAULT_FILE = str(PRICING_FILE)
FREE_PROVIDERS = ("local", "ollama", "scripted")
# Our providers (crews/runtime/settings.py) that bill like a genai-prices provider. Any other
# (openai_compatible) is found from the model name: a "provider/" prefix genai-prices knows
# ("openai/gpt-4o-mini"), else genai-prices' own matching of model names to providers
# (gpt-*, claude-*, gemini-*, deepseek-*, ...); self-hosted open models stay unknown.
GENAI_PROVIDER_IDS = {"openai": "openai", "anthropic": "anthropic"}


@dataclass(frozen=True)
class Price:
    """What an LLM call costs.

    ``prompt`` and ``completion`` are USD per one million tokens: the rates of an override,
    or (informational) the base rates genai-prices had at lookup. ``calc``, when set, is the
    real calculation (genai-prices) and :meth:`cost` uses it. ``source`` says where the price
    came from.
    """

    prompt: float = 0.0
    completion: float = 0.0
    known: bool = True
    source: str = ""
    calc: Callable[[int, int], float] | None = field(default=None, repr=False, compare=False)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for one call with these token counts."""
        if self.calc is not None:
            return self.calc(prompt_tokens, completion_tokens)
        return (prompt_tokens * self.prompt + completion_tokens * self.completion) / 1_000_000


FREE = Price(0.0, 0.0, source="free provider")
UNKNOWN = Price(0.0, 0.0, known=False, source="unknown")


class _Override(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)


class _PricingFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: Literal["USD"] = "USD"
    per_million_tokens: dict[str, _Override] | None = None
    free_providers: list[str] = list(FREE_PROVIDERS)


@lru_cache(maxsize=1)
def _bundled_snapshot() -> DataSnapshot:
    """genai-prices' data as shipped in the installed wheel (imported on first use: ~0.3 s)."""
    from genai_prices.data import providers
    from genai_prices.data_snapshot import DataSnapshot

    return DataSnapshot(providers=providers, from_auto_update=False)


def _genai_cost(provider: Any, model: Any, prompt_tokens: int, completion_tokens: int) -> float:
    from genai_prices import Usage

    usage = Usage(input_tokens=prompt_tokens, output_tokens=completion_tokens)
    return float(model.calc_price(usage, provider).total_price)


def _base_rate(value: Any) -> float:
    """A genai-prices per-million price (a Decimal, tiered prices or None) as its base rate."""
    if value is None:
        return 0.0
    return float(getattr(value, "base", value))


def genai_price(provider: str, model: str) -> Price | None:
    """The genai-prices price of ``model`` served by our ``provider``, or None if it has none."""
    from genai_prices import __version__

    snapshot = _bundled_snapshot()
    prefix, _, rest = model.partition("/")
    name = rest or model
    if provider in GENAI_PROVIDER_IDS:
        candidates = [(GENAI_PROVIDER_IDS[provider], name)]
    else:
        candidates = [(prefix, rest)] if rest else []
        candidates += [(None, name), (None, model)]
    for provider_id, ref in dict.fromkeys(candidates):
        try:
            found, info = snapshot.find_provider_model(ref, None, provider_id, None)
        except LookupError:
            continue
        rates = info.get_prices(datetime.now(UTC))
        return Price(_base_rate(rates.input_mtok), _base_rate(rates.output_mtok),
                     source=f"genai-prices {__version__}: {found.id} {info.id}",
                     calc=partial(_genai_cost, found, info))
    return None


class PricingTable:
    """Overrides by exact model name, then free providers, then genai-prices, else unknown."""

    def __init__(self, prices: dict[str, Price],
                 free_providers: set[str] | frozenset[str] = frozenset(FREE_PROVIDERS),
                 source: str = "include/pricing.yaml"):
        self._prices = prices
        self._free = set(free_providers)
        self.source = source
        self._lookup = lru_cache(maxsize=1024)(self._resolve)

    @classmethod
    def load(cls, path: Path) -> PricingTable:
        try:
            data = _PricingFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise ValueError(f"pricing file {path} is invalid: {exc}") from exc
        prices = {name: Price(p.prompt, p.completion, source=str(path))
                  for name, p in (data.per_million_tokens or {}).items()}
        return cls(prices, set(data.free_providers), source=str(path))

    def price(self, provider: str, model: str) -> Price:
        """The price of ``model`` (a ``provider/`` prefix is ignored) served by ``provider``; cached."""
        return self._lookup(provider, model)

    def _resolve(self, provider: str, model: str) -> Price:
        name = model.split("/", 1)[-1]
        override = self._prices.get(model) or self._prices.get(name)
        if override is not None:
            return override
        if provider in self._free:
            return FREE
        return genai_price(provider, model) or UNKNOWN


@lru_cache(maxsize=4)
def _load_cached(path: str) -> PricingTable:
    return PricingTable.load(Path(path))


def pricing_file() -> str:
    """The override file in use (``CREWS_PRICING_FILE`` or include/pricing.yaml)."""
    return os.environ.get("CREWS_PRICING_FILE") or _DEFAULT_FILE


def pricing_table() -> PricingTable:
    """The configured table (overrides from :func:`pricing_file`, then genai-prices)."""
    return _load_cached(pricing_file())
