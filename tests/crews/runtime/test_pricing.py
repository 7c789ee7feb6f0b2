from crews.runtime.pricing import PricingTable, pricing_table


def test_exact_then_longest_prefix():
    table = pricing_table()
    assert table.price("openai", "gpt-4o-mini").prompt == 0.15
    assert table.price("openai", "gpt-4o-mini-2024-07-18").completion == 0.60
    assert table.price("openai", "gpt-4o-2024-08-06").prompt == 2.50


def test_cost_per_million_tokens():
    price = pricing_table().price("openai", "gpt-4o-mini")
    assert price.cost(1_000_000, 1_000_000) == 0.75
    assert price.cost(1000, 500) == (1000 * 0.15 + 500 * 0.60) / 1_000_000


def test_local_is_free_and_unknown_is_flagged(tmp_path):
    table = pricing_table()
    assert table.price("local", "qwen2.5-coder-0.5b-instruct-q4_k_m").cost(10**6, 10**6) == 0
    unknown = table.price("openai_compatible", "mystery-model")
    assert unknown.known is False and unknown.cost(100, 100) == 0


def test_configured_local_price_wins(tmp_path):
    path = tmp_path / "pricing.yaml"
    path.write_text("per_million_tokens:\n  qwen2.5: {prompt: 1.0, completion: 2.0}\nfree_providers: [local]\n")
    assert PricingTable.load(path).price("local", "qwen2.5-coder").cost(10**6, 10**6) == 3.0
