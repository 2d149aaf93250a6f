"""The whole book builds with warnings as errors from the committed notebook outputs."""
from __future__ import annotations

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_book_builds_with_warnings_as_errors(built_book):
    assert (built_book / "index.html").is_file()


def _toc_files(entries):
    """Every file of a list of toc entries, sections (the API reference's module pages) included."""
    for entry in entries:
        yield entry["file"]
        yield from _toc_files(entry.get("sections", []))


def test_every_toc_chapter_is_rendered(built_book):
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [f for part in toc["parts"] for f in _toc_files(part["chapters"])]
    for f in files:
        assert (built_book / f"{f}.html").is_file(), f"{f} is in _toc.yml but was not rendered"


def test_chapter_pages_show_figures_and_math(built_book):
    page = (built_book / "notebooks" / "01_value_function.html").read_text()
    assert "<img" in page and "image/png" not in page.split("<body", 1)[0], "no figure in chapter 1"
    assert ("math notranslate" in page) or ("\\(" in page), "no math in chapter 1"


def test_bibliography_resolves_citations(built_book):
    page = (built_book / "book" / "bibliography.html").read_text()
    assert "Generative Adversarial Nets" in page


def test_api_reference_is_generated_from_docstrings(built_book):
    """autodoc really ran: the game's page documents value_function (its anchor, its parameters)
    with the math of its docstring, rather than an empty page under the module's title."""
    page = (built_book / "book" / "api" / "game.html").read_text()
    anchor = 'id="ganlib.game.losses.value_function"'
    assert anchor in page, "book/api/game.html does not document ganlib.game.losses.value_function"
    entry = page.split(anchor, 1)[1].split('<dl class="py ', 1)[0]  # up to the next documented object
    assert "d_real_logits" in entry and "Parameters" in entry, "value_function's Args: section is not rendered"
    assert 'class="math' in entry and "V(G, D)" in entry, "value_function's math (Eq. 1) is not rendered"


def test_every_module_is_documented_on_its_packages_page():
    """One API page per package (book/api/<package>.md) holds an automodule for each of its modules."""
    import pkgutil

    import ganlib

    root = pathlib.Path(__file__).resolve().parents[1]
    modules = [m.name for m in pkgutil.walk_packages(ganlib.__path__, "ganlib.")
               if m.name != "ganlib.__main__" and not m.name.split(".")[-1].startswith("_")]
    missing = []
    for name in modules:
        page = root / "book" / "api" / f"{name.split('.')[1]}.md"
        if not page.exists() or f".. automodule:: {name}\n" not in page.read_text():
            missing.append(name)
    assert missing == [], f"modules without a section on their package's API page: {missing}"
