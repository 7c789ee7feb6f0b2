"""The crews' prompt hash: of the registry-form text of all their config YAML files."""

import shutil

import pytest

from crews.prompt_source import template_hash
from crews.registry import crew_config_dir, prompt_hash, prompt_template


def test_the_hash_follows_every_config_file_and_is_the_templates(tmp_path):
    folder = tmp_path / "config"
    shutil.copytree(crew_config_dir("contract_qa"), folder)
    before = prompt_hash(folder)
    assert before == prompt_hash(crew_config_dir("contract_qa")) == template_hash(prompt_template(folder))
    synonyms = folder / "synonyms.yaml"  # read by code, not served, but part of the registered text
    synonyms.write_text(synonyms.read_text() + "\n# changed\n")
    assert prompt_hash(folder) != before
    assert "# changed" in prompt_template(folder)


def test_an_unknown_crew_has_no_config_dir():
    with pytest.raises(KeyError, match="unknown crew 'nope'"):
        crew_config_dir("nope")
