import pytest

from crews.data_qa.spec import load_input
from crews.errors import InputError


def test_relative_sqlite_path_resolves_to_include():
    item = load_input({"dataset_id": "p", "url": "sqlite:///shop.db", "table": "products"})
    assert item.spec.url.endswith("include/data_qa/shop.db")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "must be a JSON object"),
        ({"url": "sqlite:///shop.db", "table": "t"}, "dataset_id: Field required"),
        ({"dataset_id": "x", "url": "not a url", "table": "t"}, "not a SQLAlchemy URL"),
        ({"dataset_id": "x", "url": "sqlite:///missing.db", "table": "t"}, "not found"),
        ({"dataset_id": "x", "url": "sqlite://", "table": "t"}, "needs a database file"),
        ({"dataset_id": "x", "url": "sqlite:///shop.db", "table": "t", "baseline": "nope.json"}, "baseline"),
        ({"dataset_id": "x y", "url": "sqlite:///shop.db", "table": "t"}, "dataset_id"),
    ],
)
def test_bad_declarations_are_refused(payload, message):
    with pytest.raises(InputError, match=message):
        load_input(payload)
