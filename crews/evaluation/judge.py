"""An optional LLM judge for evaluations: runs only when a judge model is configured.

The judge model comes from ``CREWS_JUDGE_*`` variables (same names as
``CREWS_LLM_*``) or, in Airflow, the ``llm_judge`` connection. Without one the
evaluation says so (:data:`JUDGE_SKIPPED`) and logs code-based scores only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from crews.runtime.settings import LLMSettings

JUDGE_SKIPPED = ("LLM judge skipped: no judge model configured (set CREWS_JUDGE_PROVIDER and "
                 "CREWS_JUDGE_MODEL, or add the Airflow connection llm_judge)")
MAX_FIELD_CHARS = 4000
CONFIG_DIR = Path(__file__).parent / "config"


class JudgeVerdict(BaseModel):
    score: int = Field(ge=1, le=5)
    rationale: str


def judge_settings_from_env(environ: dict[str, str] | None = None) -> LLMSettings | None:
    import os

    env = os.environ if environ is None else environ
    return LLMSettings.from_env(env, prefix="CREWS_JUDGE_") if env.get("CREWS_JUDGE_PROVIDER") else None


def _config(name: str) -> dict[str, Any]:
    return yaml.safe_load((CONFIG_DIR / name).read_text(encoding="utf-8"))


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_FIELD_CHARS else text[:MAX_FIELD_CHARS] + " [truncated]"


class Judge:
    """Rates one output 1-5 against its expectations with the configured judge model."""

    def __init__(self, settings: LLMSettings) -> None:
        from crews.runtime.agents import build_agent
        from crews.runtime.llm_factory import build_llm

        self.model = settings.model
        self._agent = build_agent(_config("agents.yaml")["judge"], build_llm(settings))
        self._task_config = {k: v for k, v in _config("tasks.yaml")["judge_output"].items() if k != "agent"}

    def __call__(self, crew: str, inputs: Any, outputs: Any, expectations: Any) -> JudgeVerdict:
        from crewai import Crew, Process, Task

        output = outputs.get("summary", outputs) if isinstance(outputs, dict) else outputs
        task = Task(config=self._task_config, agent=self._agent, output_pydantic=JudgeVerdict,
                    response_model=JudgeVerdict)
        result = Crew(name="evaluation.judge", agents=[self._agent], tasks=[task], process=Process.sequential,
                      verbose=False).kickoff(inputs={"crew": crew, "inputs": _text(inputs),
                                                     "expectations": _text(expectations),
                                                     "output": _text(output)})
        if not isinstance(result.pydantic, JudgeVerdict):
            raise ValueError(f"the judge returned no verdict: {str(result.raw)[:200]}")
        return result.pydantic
