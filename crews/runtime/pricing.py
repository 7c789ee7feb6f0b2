"""Token counts to USD, from the pricing table in ``include/pricing.yaml``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from crews.paths import INCLUDE_DIR


@dataclass(frozen=True)
class Price:
    """USD per one million prompt and completion tokens."""

    prompt: float
    completion: float
    known: bool = True

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.prompt + completion_tokens * self.completion) / 1_000_000


FREE = Price(0.0, 0.0)
UNKNOWN = Price(0.0, 0.0, known=False)


class PricingTable:
    """Looks a model up by exact name, then by the longest matching prefix."""

    def __init__(self, prices: dict[str, Price], free_providers: set[str]):
        self._prices = prices
        self._free = free_providers

    @classmethod
    def load(cls, path: Path) -> PricingTable:
        data = yaml.safe_load(path.read_text()) or {}
        prices = {
            str(name): Price(float(p["prompt"]), float(p["completion"]))
            for name, p in (data.get("per_million_tokens") or {}).items()
        }
        return cls(prices, set(data.get("free_providers") or []))

    def price(self, provider: str, model: str) -> Price:
        name = model.split("/", 1)[-1]
        if name in self._prices:
            return self._prices[name]
        prefixes = [key for key in self._prices if name.startswith(key)]
        if prefixes:
            return self._prices[max(prefixes, key=len)]
        return FREE if provider in self._free else UNKNOWN


@lru_cache(maxsize=4)
def _load_cached(path: str) -> PricingTable:
    return PricingTable.load(Path(path))


def pricing_table() -> PricingTable:
    """The configured table (``CREWS_PRICING_FILE`` or include/pricing.yaml)."""
    return _load_cached(os.environ.get("CREWS_PRICING_FILE", str(INCLUDE_DIR / "pricing.yaml")))
