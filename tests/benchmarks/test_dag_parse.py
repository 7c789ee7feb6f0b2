"""The naive DAG copies of row 1: the same file with crewai and mlflow imported at top level."""

import ast

from benchmarks.common import ROOT
from benchmarks.dag_parse import NAIVE_IMPORTS, naive_copy


def test_naive_imports_go_after_the_future_import(tmp_path):
    source = tmp_path / "src" / "a.py"
    source.parent.mkdir()
    source.write_text('"""Doc."""\nfrom __future__ import annotations\n\nimport os\n')
    text = naive_copy(source, tmp_path).read_text()
    assert text == '"""Doc."""\nfrom __future__ import annotations\n' + NAIVE_IMPORTS + "\nimport os\n"


def test_naive_imports_go_after_a_multiline_docstring(tmp_path):
    source = tmp_path / "src" / "b.py"
    source.parent.mkdir()
    source.write_text('"""Doc\n\nmore."""\nimport os\n')
    assert naive_copy(source, tmp_path).read_text() == '"""Doc\n\nmore."""\n' + NAIVE_IMPORTS + "import os\n"


def test_every_project_dag_gets_a_valid_naive_copy_with_both_imports(tmp_path):
    for dag_file in sorted((ROOT / "dags").glob("*.py")):
        tree = ast.parse(naive_copy(dag_file, tmp_path).read_text())
        top = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
        assert {"crewai", "mlflow"} <= top, dag_file.name
