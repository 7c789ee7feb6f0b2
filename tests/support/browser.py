"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, and OCR of its screenshots."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CREWS_CHROMIUM", "/usr/bin/chromium")
# This machine has no route out: without these, Chromium keeps retrying Google's hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_tools() -> None:
    """Skip when Chromium or tesseract are missing, unless CREWS_REQUIRE_BROWSER=1 (CI) makes that a
    failure."""
    missing = [tool for tool in (CHROMIUM, "tesseract") if not shutil.which(tool)]
    if not missing:
        return
    message = (f"{', '.join(missing)} not installed (apt-get install chromium tesseract-ocr; "
               "scripts/install.sh does it as root)")
    if os.environ.get("CREWS_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def browser_context(**options) -> Iterator:
    """A fresh Playwright browser context (no shared profile, no cookies)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_context(**options)
        finally:
            browser.close()


def ocr(png: Path, box: dict[str, float] | None = None, scale: float = 1.0) -> str:
    """The text tesseract reads in ``png`` (or in ``box``, a Playwright bounding box in CSS pixels)."""
    from PIL import Image

    image = Image.open(png)
    if box is not None:
        pad = 6
        image = image.crop((max(0, (box["x"] - pad) * scale), max(0, (box["y"] - pad) * scale),
                            (box["x"] + box["width"] + pad) * scale,
                            (box["y"] + box["height"] + pad) * scale))
    crop = png.with_suffix(".ocr.png")
    image.convert("L").save(crop)
    result = subprocess.run(["tesseract", str(crop), "stdout", "--psm", "6"], capture_output=True, text=True,
                            timeout=60)
    return result.stdout


def sign_in(page, airflow_url: str, password_file: Path, user: str = "admin") -> None:
    """Sign in to the Airflow UI with the simple auth manager's generated password."""
    import json

    page.goto(f"{airflow_url}/")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(json.loads(password_file.read_text())[user])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url, timeout=30_000)
