"""Airflow plugin: the "Crew results" page, a view of the results table inside the Airflow UI.

The FastAPI app is mounted at ``/crew-results`` (``/`` is the HTML page, ``/api/results`` the
same rows as JSON; both take ``crew``, ``status``, ``dag_id``, ``dag_run_id`` and ``limit``).
The UI shows it as "Crew results" in the navigation and as a tab of every DAG and DAG run.
Every route needs a signed-in Airflow user, checked by Airflow's own ``get_user`` (the UI's
``_token`` cookie or a bearer token), and lists only rows of DAGs that user may read. Queries
and HTML are :mod:`crews.results_view`; Airflow's API modules load on the first request, so
task processes (which load every plugin) do not pay for them.
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse

URL_PREFIX = "/crew-results"
NO_STORE = {"Cache-Control": "no-store"}


async def airflow_user(request: Request) -> Any:
    """The signed-in Airflow user; 401 without credentials, 401/403 for expired or invalid ones."""
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    return await get_user(request, _oauth_token=None, bearer_credentials=await bearer_scheme(request))


User = Annotated[Any, Depends(airflow_user)]


def readable_dag_ids(user: User) -> set[str]:
    """The DAG ids the user may read, as Airflow's auth manager decides."""
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().get_authorized_dag_ids(user=user, method="GET")


ReadableDags = Annotated[set[str], Depends(readable_dag_ids)]
app = FastAPI(title="Crew results", docs_url=None, redoc_url=None, openapi_url=None)


def _lookup(request: Request, dag_ids: set[str]):
    from crews import results_view

    base = request.scope.get("root_path", "").removesuffix(URL_PREFIX)  # Airflow's base path
    return results_view.lookup(request.query_params.multi_items(), dag_ids, airflow_base=base)


@app.get("/", response_class=HTMLResponse)
def results_page(request: Request, user: User, dag_ids: ReadableDags) -> HTMLResponse:
    from crews import results_view

    try:
        found = _lookup(request, dag_ids)
    except results_view.FilterError as exc:
        return HTMLResponse(results_view.error_html(str(exc), results_view.statuses()), 400, headers=NO_STORE)
    return HTMLResponse(results_view.page_html(found), headers=NO_STORE)


@app.get("/api/results")
def results_json(request: Request, user: User, dag_ids: ReadableDags) -> dict[str, Any]:
    from crews import results_view

    try:
        return _lookup(request, dag_ids).as_json()
    except results_view.FilterError as exc:
        raise HTTPException(400, str(exc)) from exc


def _view(destination: str, url_route: str, query: str = "") -> dict[str, str]:
    return {"name": "Crew results", "href": f"{URL_PREFIX}/{query}", "destination": destination,
            "url_route": url_route}


class CrewResultsPagePlugin(AirflowPlugin):
    name = "crews_results_page"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Crew results"}]
    external_views = [
        _view("nav", "crew-results") | {"nav_top_level": True},
        _view("dag", "crew-results-dag", "?dag_id={DAG_ID}"),
        _view("dag_run", "crew-results-dag-run", "?dag_id={DAG_ID}&dag_run_id={RUN_ID}"),
    ]
