from datetime import UTC, datetime

import pytest
import yaml
from genai_prices import data_snapshot, update_prices
from genai_prices.data import providers
from genai_prices.types import TieredPrices

from crews.paths import INCLUDE_DIR
from crews.runtime.pricing import PricingTable, pricing_table


@pytest.fixture(autouse=True)
def _shipped_overrides(monkeypatch):
    monkeypatch.delenv("CREWS_PRICING_FILE", raising=False)


def _list_prices(provider_id: str, model_id: str):
    """The model's current prices straight from genai-prices' bundled data (not through our code)."""
    provider = next(p for p in providers if p.id == provider_id)
    model = next(m for m in provider.models if m.id == model_id)
    return model.get_prices(datetime.now(UTC))


def test_gpt_4o_mini_costs_the_genai_prices_list_price():
    listed = _list_prices("openai", "gpt-4o-mini")
    expected = (1200 * float(listed.input_mtok) + 300 * float(listed.output_mtok)) / 1_000_000
    table = pricing_table()
    for name in ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai/gpt-4o-mini"):
        price = table.price("openai", name)
        assert price.known and price.source.startswith("genai-prices")
        assert price.cost(1200, 300) == pytest.approx(expected, rel=1e-9)
    # Sanity: OpenAI lists gpt-4o-mini at $0.15 / $0.60 per million tokens; a wrong model or a
    # 3x mispricing lands outside this range.
    assert 0.4 <= table.price("openai", "gpt-4o-mini").cost(1_000_000, 1_000_000) <= 1.2


def test_claude_models_resolve_to_their_own_entry():
    table = pricing_table()
    listed = _list_prices("anthropic", "claude-haiku-4-5")
    haiku = table.price("anthropic", "claude-haiku-4-5")  # the default anthropic model (settings.py)
    assert haiku.known and haiku.cost(10**6, 10**6) == pytest.approx(float(listed.input_mtok
                                                                           + listed.output_mtok))
    assert table.price("anthropic", "claude-haiku-4-5-20251001").cost(10**6, 0) == haiku.cost(10**6, 0)
    # No prefix matching: Opus 4.5 is not priced as Opus 4 (3x as much).
    assert table.price("anthropic", "claude-opus-4-5").source.endswith("anthropic claude-opus-4-5")
    assert (table.price("anthropic", "claude-opus-4-5").cost(10**6, 0)
            < table.price("anthropic", "claude-opus-4-0").cost(10**6, 0))


def test_token_tiers_are_applied_by_genai_prices():
    listed = _list_prices("anthropic", "claude-sonnet-4-5")
    assert isinstance(listed.input_mtok, TieredPrices)
    tier = listed.input_mtok.tiers[0]
    price = pricing_table().price("anthropic", "claude-sonnet-4-5")
    assert price.cost(1000, 0) == pytest.approx(1000 * float(listed.input_mtok.base) / 1_000_000)
    above = tier.start + 1000
    assert price.cost(above, 0) == pytest.approx(above * float(tier.price) / 1_000_000)
    assert tier.price > listed.input_mtok.base


def test_free_providers_cost_nothing_and_are_known():
    table = pricing_table()
    for provider, model in (("local", "qwen2.5-coder-0.5b-instruct-q4_k_m"), ("ollama", "qwen2.5:0.5b"),
                            ("scripted", "scripted"), ("local", "gpt-4o-mini")):
        price = table.price(provider, model)
        assert price.known and price.cost(10**6, 10**6) == 0


def test_unknown_model_is_flagged():
    table = pricing_table()
    for provider, model in (("openai_compatible", "mystery-model"), ("openai", "gpt-mystery-9"),
                            ("openai_compatible", "meta-llama/Llama-3.3-70B-Instruct"), ("openai", "")):
        price = table.price(provider, model)
        assert price.known is False and price.cost(100, 100) == 0


def test_openai_compatible_is_priced_by_the_model_name_or_its_provider_prefix():
    table = pricing_table()
    direct = table.price("openai", "gpt-4o-mini")
    assert table.price("openai_compatible", "openai/gpt-4o-mini").cost(1000, 1000) == direct.cost(1000, 1000)
    assert table.price("openai_compatible", "gpt-4o-mini").cost(1000, 1000) == direct.cost(1000, 1000)


def test_an_override_beats_genai_prices_and_free_providers(tmp_path):
    path = tmp_path / "pricing.yaml"
    path.write_text("per_million_tokens:\n  gpt-4o-mini: {prompt: 1.0, completion: 2.0}\n"
                    "  qwen2.5-coder: {prompt: 0.5, completion: 0.5}\n")
    table = PricingTable.load(path)
    assert table.price("openai", "gpt-4o-mini").cost(10**6, 10**6) == 3.0
    assert table.price("openai_compatible", "openai/gpt-4o-mini").cost(10**6, 10**6) == 3.0
    assert table.price("local", "qwen2.5-coder").cost(10**6, 10**6) == 1.0
    # Exact names only: other models still come from genai-prices or the free providers.
    assert table.price("openai", "gpt-4o-mini-2024-07-18").cost(10**6, 10**6) < 3.0
    assert table.price("local", "qwen2.5-coder-7b").cost(10**6, 10**6) == 0


def test_pricing_file_env_names_the_overrides(tmp_path, monkeypatch):
    path = tmp_path / "negotiated.yaml"
    path.write_text("per_million_tokens:\n  mystery-model: {prompt: 2.0, completion: 4.0}\n")
    monkeypatch.setenv("CREWS_PRICING_FILE", str(path))
    price = pricing_table().price("openai_compatible", "mystery-model")
    assert price.known and price.cost(500_000, 500_000) == 3.0


def test_shipped_file_holds_no_overrides_and_a_bad_file_is_refused(tmp_path):
    shipped = yaml.safe_load((INCLUDE_DIR / "pricing.yaml").read_text())
    assert (shipped["per_million_tokens"] == {}
            and shipped["free_providers"] == ["local", "ollama", "scripted"])
    bad = tmp_path / "pricing.yaml"
    bad.write_text("per_million_tokens:\n  m: {prompt: -1, completion: 2}\n")
    with pytest.raises(ValueError, match="pricing file .* is invalid"):
        PricingTable.load(bad)


def test_lookups_are_cached_and_never_use_fetched_prices():
    table = pricing_table()
    assert table.price("openai", "gpt-4o-mini") is table.price("openai", "gpt-4o-mini")
    # A snapshot fetched by genai-prices' UpdatePrices (here: one without any provider) is ignored.
    data_snapshot.set_custom_snapshot(data_snapshot.DataSnapshot(providers=[], from_auto_update=True))
    try:
        assert PricingTable({}).price("openai", "gpt-4o").known
    finally:
        data_snapshot.set_custom_snapshot(None)
    assert update_prices._shared_updater.thread is None  # no background fetch was started
