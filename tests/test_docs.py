"""README.md and docs/*.md: the README stays one page, every relative link and anchor resolves,
and every docs page opens with an example to run."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.support.markdown import html

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
README_MAX_LINES = 150
EXAMPLE_WITHIN_LINES = 12


class _Page(HTMLParser):
    """Link targets and heading texts of a page, read from its rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.headings: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href") is not None:
            self.targets.append(attributes["href"])
        elif tag == "img" and attributes.get("src") is not None:
            self.targets.append(attributes["src"])
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append("".join(self._heading))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)


def _read(path: Path) -> _Page:
    page = _Page()
    page.feed(html(path.read_text(encoding="utf-8")))
    page.close()
    return page


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file; repeated headings get -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for heading in _read(path).headings:
        slug = github_slug(heading)
        found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return found


def broken_links(page: Path) -> list[str]:
    """The relative links of a page whose file, or heading in a Markdown file, does not exist."""
    broken = []
    for target in _read(page).targets:
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:
            continue
        path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not path.exists():
            broken.append(f"{target}: no file {path}")
        elif parts.fragment and path.suffix == ".md" and unquote(parts.fragment) not in anchors(path):
            broken.append(f"{target}: no heading #{parts.fragment} in {path.name}")
    return broken


def test_readme_is_one_page() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move reference text to docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = broken_links(page)
    assert not broken, "broken relative links:\n" + "\n".join(broken)


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_docs_page_opens_with_an_example(page: Path) -> None:
    head = page.read_text(encoding="utf-8").splitlines()[:EXAMPLE_WITHIN_LINES]
    assert any(line.lstrip().startswith(("```", "~~~")) for line in head), (
        f"{page.name}: no fenced code block in its first {EXAMPLE_WITHIN_LINES} lines"
    )


def test_readme_links_every_docs_page() -> None:
    linked = {
        (README.parent / urlsplit(target).path).resolve()
        for target in _read(README).targets
        if not urlsplit(target).scheme
    }
    assert DOCS and [page.name for page in DOCS if page.resolve() not in linked] == []


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("The local stack (`make run`)", "the-local-stack-make-run"),
        (
            "When to move on: local runner → compose → Celery / Kubernetes executor",
            "when-to-move-on-local-runner--compose--celery--kubernetes-executor",
        ),
        (
            "Measured (2026-11-21, 2 cores, 24 GiB, no GPU, local 0.5B model)",
            "measured-2026-11-21-2-cores-24-gib-no-gpu-local-05b-model",
        ),
        ("crew_results and `llm_pool`", "crew_results-and-llm_pool"),
    ],
)
def test_github_slug(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_a_missing_file_or_heading_is_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Same\n\n## Same\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#same-1) [ok](#page) [gone](missing.md) [bad](other.md#nope) "
        "[web](https://example.com/x.md)\n"
    )
    assert [line.split(":")[0] for line in broken_links(page)] == ["missing.md", "other.md#nope"]


def test_the_crews_page_example_runs_and_prints_what_it_says() -> None:
    import contextlib
    import io

    page = (ROOT / "docs" / "crews.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", page, re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/crews.md", "exec"), {})
    first, second = out.getvalue().splitlines()
    assert first == "contradicted -> A range of up to 80 km"
    assert second.startswith('{"checks":[{"claim_id":1,"claim":"A range of up to 80 km"')
