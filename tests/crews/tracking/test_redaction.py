import json
import logging

import pytest

from crews.tracking import spool
from crews.tracking.context import RunContext
from crews.tracking.redaction import RedactingFilter, redact, redact_record, redact_text
from crews.tracking.tracker import CrewRunTracker

EMAIL = "jane.doe+billing@example.co.uk"
CARD = "4111 1111 1111 1111"


@pytest.mark.parametrize(("text", "expected"), [
    ("write to jane.doe@example.com today", "write to <EMAIL> today"),
    (f"cc {EMAIL}, thanks", "cc <EMAIL>, thanks"),
    ("jürgen.müller@bücher.de", "<EMAIL>"),
    ("pay to DE89370400440532013000 please", "pay to <IBAN> please"),
    ("IBAN GB82 WEST 1234 5698 7654 32 for the refund", "IBAN <IBAN> for the refund"),
    ("lower case fr1420041010050500013m02606.", "lower case <IBAN>."),
    (f"card {CARD} exp 09/27", "card <CARD> exp 09/27"),
    ("5500-0000-0000-0004", "<CARD>"),
    ("amex 378282246310005", "amex <CARD>"),
    ("order 12 4111111111111111", "order 12 <CARD>"),
    ("call +49 30 12345678 now", "call <PHONE> now"),
    ("+1 (555) 123-4567", "<PHONE>"),
    ("(555) 123-4567 or 555-123-4567", "<PHONE> or <PHONE>"),
    ("Tel. 030 1234567, mobile 0171-2345678", "Tel. <PHONE>, mobile <PHONE>"),
    ("0044 20 7946 0958", "<PHONE>"),
    ("+44 20 7946 0958 9012 3456", "<PHONE> 9012 3456"),
])
def test_each_kind_is_redacted(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize("text", [
    "EUR 25,000", "now $1,299.00", "ships on 2027-09-30", "30.09.2027", "on 01/02/2027 10 units",
    "2-year warranty", "up to 40 hours", "15% off", "SKU-123456", "SKU-1234567890", "in 2019 2020 2021",
    "DE89370400440532013001",  # IBAN with a wrong check digit
    "4111 1111 1111 1112",  # 16 digits failing Luhn
    "1759223456789",  # epoch milliseconds
    "127.0.0.1:8001", "v1.15.30", "0.5 12345678", "192.168.100.200",
    "id 0b6f1a2c-1234-5678-9012-345678901234", "no at sign here @ all",
])
def test_ordinary_numbers_and_text_stay(text):
    assert redact_text(text) == text


def test_redaction_holds_inside_json_text():
    text = json.dumps({"copy": f"line one\n{CARD}\ncontact: {EMAIL}\n+49 30 12345678"})
    redacted = redact_text(text)
    assert json.loads(redacted) == {"copy": "line one\n<CARD>\ncontact: <EMAIL>\n<PHONE>"}


def test_redact_walks_containers_and_keeps_keys_and_numbers():
    value = {"to": [EMAIL, ("call 030 1234567",)], "n": 4111111111111111, "ok": True, EMAIL: None}
    assert redact(value) == {"to": ["<EMAIL>", ("call <PHONE>",)], "n": 4111111111111111, "ok": True,
                             EMAIL: None}


def test_switched_off_by_env_or_file_and_kinds_subset(tmp_path, monkeypatch):
    text = f"{EMAIL} {CARD}"
    monkeypatch.setenv("CREWS_REDACT_PII", "false")
    assert redact_text(text) == text and redact({"a": text}) == {"a": text}
    monkeypatch.delenv("CREWS_REDACT_PII")
    off = tmp_path / "off.yaml"
    off.write_text("enabled: false\nkinds: [email, card]\n")
    monkeypatch.setenv("CREWS_REDACTION_FILE", str(off))
    assert redact_text(text) == text
    cards = tmp_path / "cards.yaml"
    cards.write_text("enabled: true\nkinds: [card]\n")
    monkeypatch.setenv("CREWS_REDACTION_FILE", str(cards))
    assert redact_text(text) == f"{EMAIL} <CARD>"
    bad = tmp_path / "bad.yaml"
    bad.write_text("kinds: [email, ssn]\n")
    monkeypatch.setenv("CREWS_REDACTION_FILE", str(bad))
    with pytest.raises(ValueError, match="ssn"):
        redact_text(text)


def _record():
    return {
        "record_id": "4111111111111111", "experiment": "crews/fact_check", "run_name": f"d/{EMAIL}",
        "tags": {"item_id": EMAIL, "prompt_hash": "4111111111111111", "run_id": "manual__2027-09-30"},
        "params": {"crew": "fact_check", "llm.base_url": "http://127.0.0.1:8001/v1", "llm.max_tokens": 768},
        "metrics": {"llm_calls": 3, "total_tokens": 4111111111111111},
        "artifacts": {
            "inputs.json": json.dumps({"copy": f"Mail {EMAIL}", "started_ms": 5555555555554444}, indent=2),
            "llm_calls.jsonl": json.dumps({"messages": [{"content": f"card {CARD}"}]}) + "\n",
            "error.txt": "IBAN DE89370400440532013000 rejected",
        },
        "spans": [{"span_id": "5555555555554444", "parent_id": None, "kind": "llm", "start_ns": 1,
                   "end_ns": 2, "inputs": [{"content": f"IBAN GB82WEST12345698765432 / {EMAIL}"}],
                   "outputs": "+49 30 12345678",
                   "attributes": {"call_id": "5555555555554444", "model": "m"}}],
        "trace_inputs": {"copy": CARD}, "trace_outputs": {"note": EMAIL}, "status": "FINISHED",
        "prompt_template": "agents: write to someone@example.com", "start_ms": 1, "end_ms": 2,
    }


def test_record_redaction_keeps_metrics_ids_and_prompts():
    record = _record()
    out = redact_record(record)
    assert record == _record()  # the input is not changed
    assert out["metrics"] == record["metrics"]
    for key in ("record_id", "experiment", "prompt_template", "start_ms", "end_ms", "status"):
        assert out[key] == record[key]
    assert out["tags"] == {"item_id": "<EMAIL>", "prompt_hash": "4111111111111111",
                           "run_id": "manual__2027-09-30"}
    assert out["run_name"] == "d/<EMAIL>" and out["params"] == record["params"]
    assert json.loads(out["artifacts"]["inputs.json"]) == {"copy": "Mail <EMAIL>",
                                                           "started_ms": 5555555555554444}
    assert json.loads(out["artifacts"]["llm_calls.jsonl"]) == {"messages": [{"content": "card <CARD>"}]}
    assert out["artifacts"]["error.txt"] == "IBAN <IBAN> rejected"
    span = out["spans"][0]
    assert span["span_id"] == span["attributes"]["call_id"] == "5555555555554444"
    assert span["inputs"] == [{"content": "IBAN <IBAN> / <EMAIL>"}] and span["outputs"] == "<PHONE>"
    assert (out["trace_inputs"], out["trace_outputs"]) == ({"copy": "<CARD>"}, {"note": "<EMAIL>"})


CONTEXT = RunContext(crew="fact_check", item_id="pii", source="airflow", dag_id="d", run_id="r1",
                     task_id="check_draft", map_index=0, try_number=1)


def _tracked_run(draft, llm, writer):
    from crews.fact_check.pipeline import run as check_draft

    pii = draft.model_copy(update={"copy_text": f"Questions? Mail {EMAIL}. Pay with card {CARD}. "
                                                + draft.copy_text})
    inputs = {"draft_id": "pii", "copy_text": pii.copy_text}
    with CrewRunTracker(CONTEXT, {"provider": "scripted", "model": "s"}, "abc123", inputs=inputs,
                        writer=writer) as tracker:
        report = check_draft(pii, llm)
        tracker.set_output(report.model_dump(mode="json"), {"claims": len(report.claims)})
    return tracker


def _assert_no_pii(text):
    for secret in (EMAIL, CARD, CARD.replace(" ", "")):
        assert secret not in text
    assert "<EMAIL>" in text and "<CARD>" in text


def test_tracker_writes_and_spools_only_redacted_records(draft, scripted_llm):
    written = []
    tracker = _tracked_run(draft, scripted_llm, lambda r: written.append(r) or "run-1")
    assert EMAIL in json.dumps(tracker.record)  # the crew saw the data ...
    _assert_no_pii(json.dumps(written[0], ensure_ascii=False))  # ... MLflow does not
    assert written[0]["metrics"]["llm_calls"] == 3 and "<CARD>" in written[0]["artifacts"]["llm_calls.jsonl"]

    def down(record):
        raise ConnectionError("mlflow down")

    tracker = _tracked_run(draft, scripted_llm, down)
    (path,) = spool.spool_dir().glob("*.json")
    assert str(path) == tracker.spooled_to
    _assert_no_pii(path.read_text())


def test_replay_redacts_records_spooled_before_redaction(draft, scripted_llm):
    legacy = {**_record(), "record_id": "legacy"}
    spool.spool(legacy)
    written = []
    _tracked_run(draft, scripted_llm, lambda r: written.append(r) or "ok")
    assert [r["record_id"] for r in written][-1] == "legacy"
    assert written[-1] == redact_record(legacy) and written[-1]["trace_inputs"] == {"copy": "<CARD>"}


def test_crews_log_records_are_redacted(caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("crews.anything").info("customer %s paid with %s", EMAIL, CARD)
    try:
        raise ValueError(f"bad IBAN DE89370400440532013000 for {EMAIL}")
    except ValueError:
        logging.getLogger("crews").exception("failed")
    logging.getLogger("elsewhere").info("untouched %s", EMAIL)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "customer <EMAIL> paid with <CARD>"
    assert messages[1].startswith("failed\nTraceback") and "bad IBAN <IBAN> for <EMAIL>" in messages[1]
    assert messages[2] == f"untouched {EMAIL}"
    assert EMAIL not in caplog.text.replace(f"untouched {EMAIL}", "")


def test_records_made_from_dicts_still_work():
    record = logging.makeLogRecord({"name": "crews.x", "msg": "to %s", "args": ("someone",)})
    assert record.getMessage() == "to someone"


def test_redacting_filter_on_any_logger_and_switched_off(monkeypatch):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", (EMAIL,), None)
    assert RedactingFilter().filter(record) is True and record.getMessage() == "to <EMAIL>"
    monkeypatch.setenv("CREWS_REDACT_PII", "off")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", (EMAIL,), None)
    assert RedactingFilter().filter(record) is True and record.getMessage() == f"to {EMAIL}"
    logging.getLogger("crews.anything").warning("to %s", EMAIL)  # no error when off


@pytest.mark.parametrize("pii_switch", ["true", "false"])
def test_url_credentials_are_always_redacted(monkeypatch, pii_switch):
    monkeypatch.setenv("CREWS_REDACT_PII", pii_switch)
    text = "dataset url postgresql://qa:s3cr3t-pw@db.internal:5432/shop and sqlite:///shop.db"
    assert redact_text(text) == "dataset url postgresql://<CREDENTIALS>@db.internal:5432/shop and sqlite:///shop.db"
    record = redact_record({"artifacts": {"inputs.json": json.dumps({"url": "mysql://u:pw@h/db"})},
                            "metrics": {}})
    assert "pw" not in record["artifacts"]["inputs.json"]


def test_url_credentials_in_crews_logs_are_redacted_with_pii_off(monkeypatch, caplog):
    monkeypatch.setenv("CREWS_REDACT_PII", "false")
    with caplog.at_level(logging.INFO, logger="crews.data_qa"):
        logging.getLogger("crews.data_qa").info("reading %s for jane@example.com", "postgresql://qa:pw123@db/shop")
    assert caplog.messages == ["reading postgresql://<CREDENTIALS>@db/shop for jane@example.com"]
