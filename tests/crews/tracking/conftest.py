import pytest
import yaml

from crews.fact_check.schemas import DraftInput, FactSheet
from crews.paths import INCLUDE_DIR


@pytest.fixture
def draft() -> DraftInput:
    sheet = FactSheet.model_validate(
        yaml.safe_load((INCLUDE_DIR / "fact_check/fact_sheets/aurora_x2.yaml").read_text()))
    return DraftInput(
        draft_id="track_me",
        copy_text="Enjoy up to 40 hours of battery life. Backed by a 2-year warranty.",
        fact_sheet=sheet,
    )
