"""One scripted responder for every crew: dispatches on the crew package of the requested schema."""

from __future__ import annotations

from typing import Any

from tests.support import scripted_contract_qa, scripted_data_qa, scripted_fact_check

RESPONDERS = {"fact_check": scripted_fact_check, "data_qa": scripted_data_qa,
              "contract_qa": scripted_contract_qa}


def respond(messages: list[dict[str, Any]], response_model: Any) -> Any:
    crew = response_model.__module__.split(".")[1]
    return RESPONDERS[crew].respond(messages, response_model)
