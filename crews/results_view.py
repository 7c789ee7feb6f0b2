"""The "Crew results" page: filters, rows and HTML over the results table (read only).

Served by the Airflow plugin ``plugins/crew_results_page.py``, which authenticates the user
and passes the DAG ids they may read; nothing here imports Airflow, calls an LLM or MLflow.
Every value shown is escaped: item ids, statuses, summaries and corrections come from users
and models.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC
from functools import lru_cache
from html import escape
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crews.registry import CREWS
from crews.results import CrewResult, engine_for, results_url

PARAMS = ("crew", "status", "dag_id", "dag_run_id", "limit")
MAX_PARAM_CHARS = 250  # the results table's id columns are String(250)
DEFAULT_LIMIT, MAX_LIMIT = 200, 1000
MAX_CORRECTION_CHARS = 160
# Statuses the crews' summaries and the review step write; the filter also accepts any stored one.
KNOWN_STATUSES = ("draft ok", "revision approved", "needs changes", "passed", "failed", "answered",
                  "not found", "needs review", "accepted", "rejected")
# The mapped task that runs one item in each crew DAG (its map index is not stored: link the mapped list).
ITEM_TASKS = {"fact_check_copy": "check_draft", "contract_qa": "answer_question",
              "data_quality_qa": "check_dataset"}
_USAGE_KEYS = ("total_tokens", "cost_usd")


class FilterError(ValueError):
    """A query parameter the page refuses (the plugin answers HTTP 400 with the message)."""


@dataclass(frozen=True)
class Filters:
    crew: str | None = None
    status: str | None = None
    dag_id: str | None = None
    dag_run_id: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass
class Found:
    filters: Filters
    statuses: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"filters": asdict(self.filters), "count": len(self.rows), "rows": self.rows}


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    return engine_for(url)


def statuses(url: str | None = None) -> list[str]:
    """The statuses a filter may name: the known ones and any stored one."""
    with Session(_engine(url or results_url())) as session:
        stored = session.scalars(select(CrewResult.status).distinct())
        return sorted(set(KNOWN_STATUSES) | {s for s in stored if s})


def parse_filters(params: Iterable[tuple[str, str]], known_statuses: Collection[str]) -> Filters:
    """Filters from query parameters (empty values mean "any"); raises :class:`FilterError`."""
    params = list(params)
    unknown = sorted({k for k, _ in params} - set(PARAMS))
    if unknown:
        raise FilterError(f"unknown query parameter(s) {', '.join(unknown)}; "
                          f"this page takes {', '.join(PARAMS)}")
    repeated = sorted(k for k, n in Counter(k for k, _ in params).items() if n > 1)
    if repeated:
        raise FilterError(f"query parameter(s) given more than once: {', '.join(repeated)}")
    values = {k: v.strip() for k, v in params if v.strip()}
    for key, value in values.items():
        if len(value) > MAX_PARAM_CHARS:
            raise FilterError(f"{key} has {len(value):,} characters; at most {MAX_PARAM_CHARS} are allowed")
    if "crew" in values and values["crew"] not in CREWS:
        raise FilterError(f"unknown crew {values['crew']!r}; known crews: {', '.join(sorted(CREWS))}")
    if "status" in values and values["status"] not in known_statuses:
        raise FilterError(f"unknown status {values['status']!r}; "
                          f"known statuses: {', '.join(sorted(known_statuses))}")
    limit = values.pop("limit", str(DEFAULT_LIMIT))
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        raise FilterError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
    return Filters(**values, limit=int(limit))


def lookup(params: Iterable[tuple[str, str]], dag_ids: Collection[str] | None, airflow_base: str = "",
           mlflow_ui: str | None = None, url: str | None = None) -> Found:
    """The newest rows matching ``params`` among DAGs ``dag_ids`` (None: all DAGs), as JSON-safe dicts.

    ``airflow_base`` prefixes links into the Airflow UI (its base path, "" at the root);
    ``mlflow_ui`` defaults to :func:`crews.tracking.run_links.ui_url`.
    """
    url = url or results_url()
    known = statuses(url)
    filters = parse_filters(params, known)
    query = select(CrewResult)
    for column in ("crew", "status", "dag_id", "dag_run_id"):
        if getattr(filters, column) is not None:
            query = query.where(getattr(CrewResult, column) == getattr(filters, column))
    if dag_ids is not None:
        query = query.where(CrewResult.dag_id.in_(sorted(dag_ids)))
    query = query.order_by(CrewResult.updated_at.desc(), CrewResult.dag_run_id,
                           CrewResult.item_id).limit(filters.limit)
    if mlflow_ui is None:
        from crews.tracking.run_links import ui_url  # loads the tracking package (and crewai) once

        mlflow_ui = ui_url()
    with Session(_engine(url)) as session:
        rows = [row_view(row, airflow_base, mlflow_ui) for row in session.scalars(query)]
    return Found(filters, known, rows)


def row_view(row: CrewResult, airflow_base: str = "", mlflow_ui: str | None = None) -> dict[str, Any]:
    """One result row for the page and the JSON endpoint."""
    summary = _json_object(row.summary_json)
    usage = summary.get("usage") if isinstance(summary.get("usage"), dict) else summary
    review = summary.get("review") if isinstance(summary.get("review"), dict) else None
    run_page = f"{airflow_base}/dags/{_q(row.dag_id)}/runs/{_q(row.dag_run_id)}"
    task = ITEM_TASKS.get(row.dag_id)
    updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC)
    return {
        "crew": row.crew, "dag_id": row.dag_id, "dag_run_id": row.dag_run_id, "item_id": row.item_id,
        "status": row.status, "passed": row.passed,
        "counts": {k: v for k, v in summary.items()
                   if isinstance(v, int | float) and not isinstance(v, bool) and k not in _USAGE_KEYS},
        "review": {"chosen": [str(c) for c in review.get("chosen") or []],
                   "correction": review.get("correction"),
                   "responded_by": review.get("responded_by"),
                   "correction_refused": review.get("correction_refused")} if review else None,
        "total_tokens": _number(usage.get("total_tokens")), "cost_usd": _number(usage.get("cost_usd")),
        "mlflow_run_id": row.mlflow_run_id,
        "mlflow_url": (f"{mlflow_ui}/#/runs/{_q(row.mlflow_run_id)}"
                       if mlflow_ui and row.mlflow_run_id else None),
        "dag_run_url": run_page,
        "task_url": _task_url(run_page, summary.get("task"), task),
        "updated_at": updated.isoformat(timespec="seconds"),
    }


def _task_url(run_page: str, ran_in: Any, item_task: str | None) -> str | None:
    """The task instance that ran the item (stored with the result), else the item task's mapped list."""
    if (isinstance(ran_in, dict) and isinstance(ran_in.get("task_id"), str)
            and isinstance(ran_in.get("map_index"), int)):
        return f"{run_page}/tasks/{_q(ran_in['task_id'])}/mapped/{ran_in['map_index']}"
    return f"{run_page}/tasks/{item_task}/mapped" if item_task else None


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _q(value: str) -> str:
    return quote(str(value), safe="")


# --- HTML ------------------------------------------------------------------------------------------

_STYLE = """
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#1f2937}
.rows{overflow-x:auto}
h1{font-size:20px;margin:0 0 12px}
form{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:end;margin-bottom:12px}
label{display:flex;flex-direction:column;font-size:12px;color:#4b5563}
input,select,button{font:inherit;padding:3px 6px}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:left;vertical-align:top}
td:nth-child(4) a{word-break:break-all}
th{background:#f9fafb;position:sticky;top:0}
.error{background:#fee2e2;color:#991b1b;padding:8px 12px;border-radius:4px}
.note{color:#6b7280}
.num{text-align:right;white-space:nowrap}
.ok{color:#166534}.bad{color:#991b1b}
"""

# Inside the Airflow UI the page is a sandboxed iframe that may neither open tabs nor navigate the
# top window; the iframe is same-origin, so a link is followed from the top document instead.
_SCRIPT = """
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a[target]");
  if (!link || window.top === window) return;
  try {
    var doc = window.top.document, a = doc.createElement("a");
    a.href = link.href; a.target = link.target; a.rel = "noopener noreferrer";
    doc.body.appendChild(a); a.click(); a.remove();
    event.preventDefault();
  } catch (e) { /* not same-origin: the browser decides */ }
});
"""

COLUMNS = ("Updated (UTC)", "Crew", "DAG", "DAG run", "Item", "Status", "Verdicts", "Review", "Tokens",
           "Cost", "Links")


def page_html(found: Found) -> str:
    """The page: the filter form, then the rows."""
    return _page(found.filters, found.statuses, _table(found))


def error_html(message: str, known_statuses: Iterable[str]) -> str:
    """The page with an empty form and the reason the filters were refused."""
    return _page(Filters(), known_statuses, f'<p class="error" role="alert">{escape(message)}</p>')


def _page(filters: Filters, known_statuses: Iterable[str], body: str) -> str:
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Crew results</title>'
            f"<style>{_STYLE}</style><script>{_SCRIPT}</script></head>"
            f"<body><h1>Crew results</h1>{_form(filters, known_statuses)}{body}</body></html>")


def _form(filters: Filters, known_statuses: Iterable[str]) -> str:
    return (
        '<form method="get" action="">'
        + _select("crew", "Crew", sorted(CREWS), filters.crew)
        + _select("status", "Status", known_statuses, filters.status)
        + _text("dag_id", "DAG", filters.dag_id)
        + _text("dag_run_id", "DAG run", filters.dag_run_id)
        + f'<label>Limit<input type="number" name="limit" min="1" max="{MAX_LIMIT}" '
          f'value="{filters.limit}"></label>'
        + '<button type="submit">Filter</button></form>'
    )


def _select(name: str, label: str, options: Iterable[str], chosen: str | None) -> str:
    items = "".join(f'<option value="{escape(o)}"{" selected" if o == chosen else ""}>{escape(o)}</option>'
                    for o in options)
    return f'<label>{label}<select name="{name}"><option value="">any</option>{items}</select></label>'


def _text(name: str, label: str, value: str | None) -> str:
    return (f'<label>{label}<input type="text" name="{name}" maxlength="{MAX_PARAM_CHARS}" '
            f'value="{escape(value or "")}"></label>')


def _table(found: Found) -> str:
    if not found.rows:
        return '<p class="note">No results match these filters (or none in DAGs you may read).</p>'
    more = (f" (the newest {found.filters.limit}; raise the limit, at most {MAX_LIMIT}, for older ones)"
            if len(found.rows) >= found.filters.limit else "")
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    body = "".join(_row_html(r) for r in found.rows)
    return (f'<p class="note">{len(found.rows)} result(s), newest first{more}.</p>'
            f'<div class="rows"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')


def _row_html(row: dict[str, Any]) -> str:
    status_class = "ok" if row["passed"] else "bad"
    counts = ", ".join(f"{k} {_fmt(v)}" for k, v in row["counts"].items()) or "—"
    tokens = "—" if row["total_tokens"] is None else f"{int(row['total_tokens']):,}"
    cost = "—" if row["cost_usd"] is None else f"${row['cost_usd']:.4f}"
    links = [_link(row["task_url"], "task", "_top"), _link(row["mlflow_url"], "MLflow run", "_blank")]
    cells = [
        escape(row["updated_at"].replace("T", " ").removesuffix("+00:00")),
        escape(row["crew"]),
        escape(row["dag_id"]),
        _link(row["dag_run_url"], row["dag_run_id"], "_top"),
        escape(row["item_id"]),
        f'<span class="{status_class}">{escape(row["status"])}</span>',
        escape(counts),
        _review_html(row["review"]),
        f'<span class="num">{tokens}</span>',
        f'<span class="num">{cost}</span>',
        " · ".join(link for link in links if link) or "—",
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _review_html(review: dict[str, Any] | None) -> str:
    if not review:
        return "—"
    text = escape(", ".join(review["chosen"]) or "no option")
    if review.get("responded_by"):
        text += f" by {escape(str(review['responded_by']))}"
    correction = review.get("correction")
    if correction:
        short = str(correction)
        short = short if len(short) <= MAX_CORRECTION_CHARS else short[:MAX_CORRECTION_CHARS] + "…"
        text += f'<br><span title="{escape(str(correction))}">correction: {escape(short)}</span>'
    if review.get("correction_refused"):
        text += (f'<br><span class="bad">correction not stored: '
                 f'{escape(str(review["correction_refused"]))}</span>')
    return text


def _link(href: str | None, text: str, target: str) -> str:
    if not href:
        return ""
    rel = ' rel="noopener noreferrer"' if target == "_blank" else ""
    return f'<a href="{escape(href)}" target="{target}"{rel}>{escape(text)}</a>'


def _fmt(value: int | float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"
