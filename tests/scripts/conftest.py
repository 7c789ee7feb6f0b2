import pytest

from tests.scripts.fake_airflow import serving


@pytest.fixture
def server():
    """``server(Fake(...))`` starts a fake Airflow + MLflow server and returns its base URL."""
    with serving() as start:
        yield start
