import pytest
from common.crew_tasks import default_items


@pytest.mark.parametrize(
    ("catalog", "key", "first"),
    [("fact_check/drafts/index.yaml", "drafts", "aurora_launch"), ("data_qa/datasets.yaml", "datasets", "shop_products")],
)
def test_default_catalogs_used_by_the_dags(catalog, key, first):
    items = default_items(catalog, key)
    assert items[0][key[:-1] + "_id"] == first


def test_empty_catalog_is_an_error(tmp_path, monkeypatch):
    import common.crew_tasks as crew_tasks

    (tmp_path / "empty.yaml").write_text("drafts: []\n")
    monkeypatch.setattr(crew_tasks, "INCLUDE_DIR", tmp_path)
    with pytest.raises(ValueError, match="lists no 'drafts'"):
        default_items("empty.yaml", "drafts")
