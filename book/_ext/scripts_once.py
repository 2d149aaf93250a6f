"""Sphinx extension: emit each <script> once per page.

Sphinx 7.4 registers a body-only script that an extension adds after the builder has started
twice: once with filename None (Sphinx.add_js_file) and once with filename '' (when writing
starts), and the two do not compare equal. sphinx-thebe, which Jupyter Book always loads, adds
`const THEBE_JS_URL = ...` that way, so every page declared it twice and the browser threw
"SyntaxError: Identifier 'THEBE_JS_URL' has already been declared" (tests/test_browser.py fails on
any uncaught JavaScript error). This drops exact duplicates (same file or body, same attributes).
"""
from __future__ import annotations


def _key(js) -> tuple:
    attributes = getattr(js, "attributes", {}) or {}
    return (str(getattr(js, "filename", js) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple] = set()
    unique = []
    for js in scripts:
        key = _key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def setup(app):
    # Late (priority 900): after the extensions that add page-specific scripts.
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
