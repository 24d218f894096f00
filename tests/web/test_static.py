"""The page's static files as the app serves them, without a server: their types and caching."""

from __future__ import annotations

import mimetypes
import tomllib
from pathlib import Path

from vaekit.web.app import STATIC, _Static

REPO = Path(__file__).resolve().parents[2]


def _answer(path: Path, headers: list[tuple[bytes, bytes]] = ()):
    return _Static(directory=STATIC).file_response(path, path.stat(), {"type": "http", "headers": list(headers)})


def test_modules_are_javascript_whatever_the_machines_type_table_says(monkeypatch):
    table = mimetypes.MimeTypes()
    table.add_type("text/plain", ".js")          # as a Windows registry may have it
    monkeypatch.setattr(mimetypes, "_db", table)
    assert mimetypes.guess_type("main.js")[0] == "text/plain"
    for path in sorted(STATIC.rglob("*.js")):
        response = _answer(path)
        assert response.headers["content-type"] == "text/javascript; charset=utf-8", path
        assert response.headers["cache-control"] == "no-cache"


def test_the_page_files_are_revalidated_and_answered_304_when_unchanged():
    path = STATIC / "js" / "main.js"
    etag = _answer(path).headers["etag"]
    response = _answer(path, [(b"if-none-match", etag.encode())])
    assert response.status_code == 304 and response.headers["cache-control"] == "no-cache"
    css = _answer(STATIC / "style.css")
    assert css.headers["content-type"].startswith("text/css") and css.headers["cache-control"] == "no-cache"


def test_every_static_file_is_package_data():
    """An installed wheel has the whole page: pyproject's package-data patterns cover every file under static/."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["vaekit"]
    package = STATIC.parents[1]
    covered = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    files = {p for p in STATIC.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert files - covered == set()
    assert STATIC / "js" / "views" / "plane.js" in covered
