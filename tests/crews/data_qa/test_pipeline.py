
from crews.data_qa.pipeline import classify
from crews.data_qa.pipeline import run as check_dataset
from crews.data_qa.schemas import Finding
from crews.evaluation.golden import sample_items
from crews.registry import get_crew
from crews.runtime.llm_factory import build_llm
from crews.runtime.settings import LLMSettings

CREW = get_crew("data_qa")
load_input = CREW.load_input

CATALOG = {d["dataset_id"]: d for d in sample_items("data_qa")}


def _llm():
    return build_llm(LLMSettings(provider="scripted", script="tests.support.scripted_data_qa:respond"))


def test_clean_dataset_passes_and_dirty_ones_fail():
    llm = _llm()
    reports = {name: check_dataset(load_input(payload), llm) for name, payload in CATALOG.items()}
    assert {name: r.passed for name, r in reports.items()} == {
        "shop_products": True, "shop_customers": False, "shop_orders": False,
        "warehouse_skus": True, "warehouse_stock": False, "web_events": False,
    }
    customers = reports["shop_customers"]
    assert {(i.column, i.kind) for i in customers.issues} == {
        ("email", "nulls"), ("email", "pattern"), ("age", "out_of_range"), ("signup_date", "future_dates"),
        ("customer_id", "duplicate_keys"), ("loyalty_tier", "dropped_column"),
    }
    assert all(i.suggested_fix.startswith("scripted fix") for i in customers.issues)
    assert (customers.summary == "The dataset failed."
            and reports["shop_products"].summary == "The dataset passed.")


def test_verdict_comes_from_severity_rules_not_the_llm():
    issues = classify([Finding(table="t", column=None, kind="volume_change", count=5,
                               evidence="rows 10 -> 15"),
                       Finding(table="t", column="c", kind="added_column", count=1, evidence="new")])
    assert [i.severity for i in issues] == ["warning", "info"]


def test_summary_and_metrics():
    report = check_dataset(load_input(CATALOG["shop_orders"]), _llm())
    assert CREW.summary(report)["errors"] == CREW.metrics(report)["issues_error"] == 2


def _reviewer_saying(*summaries):
    """The scripted crew, with a reviewer that gives these summaries one after the other."""
    from crews.data_qa.schemas import ReviewSummary
    from tests.support import scripted_data_qa

    said = list(summaries)

    def respond(messages, response_model):
        if response_model is ReviewSummary:
            return ReviewSummary(summary=said.pop(0))
        return scripted_data_qa.respond(messages, response_model)
    return _llm().with_responder(respond)


def test_a_contradicting_summary_is_asked_for_once_more():
    llm = _reviewer_saying("The dataset passed; every column is clean.", "The dataset failed its checks.")
    report = check_dataset(load_input(CATALOG["shop_orders"]), llm)
    assert report.summary == "The dataset failed its checks." and report.summary_by == "reviewer, second try"
    assert report.summary_problems == ["first summary: it says the dataset passed, but it failed the gate"]
    assert llm.calls == 3  # fixes, summary, one more summary


def test_a_summary_contradicting_twice_is_replaced_and_flagged():
    llm = _reviewer_saying("The dataset passed.", "All good, it passed with 0 problems.")
    report = check_dataset(load_input(CATALOG["shop_orders"]), llm)
    assert report.summary_by == "template" and report.summary.startswith("Dataset shop_orders")
    # the template states only the findings
    assert len(report.summary_problems) == 2 and not report.needs_review
    assert CREW.metrics(report)["summary_templated"] == 1.0
    assert llm.calls == 3
