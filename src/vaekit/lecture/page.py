"""The lecture's page: ``index.html`` rendered from ``summary.json``.

The page is one self-contained HTML file read offline: inline CSS, no script, no font, no
URL; the figures are referenced by their paths relative to the page (``figures/*.png``).
The template is ``templates/report.html.j2``; this module checks the summary, formats its
numbers and writes the file atomically.  The page speaks the summary's language
(``settings.lang``, English when absent): its own words come from ``vaekit.i18n``'s catalog through
Jinja2's i18n extension, the sections' words are in the summary already.

    >>> html = render_page(summary)               # summary: the dict written as summary.json
    >>> write_page(summary, Path("lecture"))      # -> lecture/index.html
"""

from __future__ import annotations

import math
import numbers
import re
from functools import lru_cache
from pathlib import Path, PurePosixPath

import jinja2

from ..atomic import write_text
from ..errors import VaekitError
from ..i18n import CJK, DEFAULT, HTML_LANG, LANGUAGES, _, language, ngettext

FORMAT = "vaekit-lecture/1"
PAGE_NAME = "index.html"
TEMPLATE = "report.html.j2"

# The keys the page reads, at each level of the summary (other keys are ignored).
_TOP_KEYS = ("format", "vaekit_version", "torch_version", "created", "settings", "seconds", "sections")
_SETTINGS_KEYS = ("data", "quick", "seed", "device")
_SECTION_KEYS = ("id", "number", "title", "claim", "method", "figures", "tables", "numbers",
                 "conclusion", "runs", "seconds")
_FIGURE_KEYS = ("file", "caption", "alt")          # and optionally "width" (CSS px)
_TABLE_KEYS = ("caption", "columns", "rows")
_NUMBER_KEYS = ("value", "unit", "label")

# A section id is an HTML id, a link target (#id) and a screenshot's file name; the page's
# own sections take these.
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
_RESERVED_IDS = frozenset({"symbols"})


class SummaryError(VaekitError):
    """The lecture summary lacks a key the page needs, or holds a value it cannot show."""


# ---------------------------------------------------------------------------- filters

def format_number(x) -> str:
    """One number as the page shows it.

    None -> "–"; booleans -> "yes"/"no" (in the current language); integers as integers; floats with 3 significant
    digits below 1 in magnitude (0.213, 0.0521), 2 decimals from 1 on (-123.46), and in
    scientific notation below 0.001 or from 10⁶ on (2.50e-05); NaN and infinities by name.
    Anything else (a string) is shown as it is.
    """
    if x is None:
        return "–"
    if isinstance(x, bool):
        return _("yes") if x else _("no")
    if isinstance(x, numbers.Integral):
        return str(int(x))
    if isinstance(x, numbers.Real):
        x = float(x)
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "∞" if x > 0 else "-∞"
        a = abs(x)
        if a == 0:
            return "0"
        if a < 1e-3 or a >= 1e6:
            return f"{x:.2e}"
        if a < 1:
            return f"{x:.3g}"
        return f"{x:.2f}"
    return str(x)


def format_duration(seconds) -> str:
    """Seconds as "4.2 s", "2 min 05 s" or "1 h 02 min"."""
    if seconds is None:
        return "–"
    s = float(seconds)
    if s < 60:
        return f"{s:.1f} s"
    s = round(s)
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def paragraphs(text: str) -> list[str]:
    """Plain text split at blank lines into paragraphs (each one's lines joined by spaces)."""
    blocks = re.split(r"\n\s*\n", str(text).strip())
    return [" ".join(line.strip() for line in b.splitlines()) for b in blocks if b.strip()]


# ---------------------------------------------------------------------------- checks

def _need(obj, keys, where: str) -> None:
    if not isinstance(obj, dict):
        raise SummaryError(f"lecture summary: {where} must be an object; got {type(obj).__name__}")
    missing = [k for k in keys if k not in obj]
    if missing:
        names = ", ".join(repr(k) for k in missing)
        raise SummaryError(f"lecture summary: {where} has no key {names}")


def _list(obj, where: str) -> list:
    if not isinstance(obj, list):
        raise SummaryError(f"lecture summary: {where} must be a list; got {type(obj).__name__}")
    return obj


def check_summary(summary: dict) -> None:
    """Raise ``SummaryError`` naming the place if the page cannot be made from ``summary``."""
    _need(summary, _TOP_KEYS, "the summary")
    if summary["format"] != FORMAT:
        raise SummaryError(f"lecture summary: format must be {FORMAT!r}; got {summary['format']!r}")
    _need(summary["settings"], _SETTINGS_KEYS, "settings")
    lang = summary["settings"].get("lang", DEFAULT)
    if lang not in LANGUAGES:
        raise SummaryError(f"lecture summary: settings.lang must be one of {', '.join(LANGUAGES)}; got {lang!r}")
    seen: set[str] = set()
    for i, section in enumerate(_list(summary["sections"], "sections")):
        where = f"sections[{i}]"
        _need(section, ("id",), where)
        sid = section["id"]
        if not isinstance(sid, str) or not _ID.match(sid):
            raise SummaryError(f"lecture summary: {where}.id must be a letter followed by letters, "
                               f"digits, '-' or '_'; got {sid!r}")
        if sid in _RESERVED_IDS:
            raise SummaryError(f"lecture summary: {where}.id {sid!r} is taken by the page itself")
        if sid in seen:
            raise SummaryError(f"lecture summary: {where}.id {sid!r} is used by an earlier section")
        seen.add(sid)
        where = f"section {sid!r}"
        _need(section, _SECTION_KEYS, where)
        for j, fig in enumerate(_list(section["figures"], f"{where} figures")):
            _need(fig, _FIGURE_KEYS, f"{where} figures[{j}]")
            _check_relative(fig["file"], f"{where} figures[{j}].file")
            width = fig.get("width")
            if width is not None and not (isinstance(width, numbers.Integral) and width > 0):
                raise SummaryError(f"lecture summary: {where} figures[{j}].width must be a positive "
                                   f"integer (CSS px) or absent; got {width!r}")
        for j, table in enumerate(_list(section["tables"], f"{where} tables")):
            _need(table, _TABLE_KEYS, f"{where} tables[{j}]")
            n = len(_list(table["columns"], f"{where} tables[{j}].columns"))
            for r, row in enumerate(_list(table["rows"], f"{where} tables[{j}].rows")):
                if len(_list(row, f"{where} tables[{j}].rows[{r}]")) != n:
                    raise SummaryError(f"lecture summary: {where} tables[{j}].rows[{r}] has "
                                       f"{len(row)} cells for {n} columns")
        numbers_ = section["numbers"]
        if not isinstance(numbers_, dict):
            raise SummaryError(f"lecture summary: {where} numbers must be an object; "
                               f"got {type(numbers_).__name__}")
        for key, number in numbers_.items():
            _need(number, _NUMBER_KEYS, f"{where} numbers[{key!r}]")
        _list(section["runs"], f"{where} runs")
        for j, item in enumerate(_list(section.get("explore", []), f"{where} explore")):
            _need(item, ("what", "command"), f"{where} explore[{j}]")


def _check_relative(file, where: str) -> None:
    """A figure is a relative path below the page's folder: the page reaches nothing else."""
    path = PurePosixPath(str(file))
    if (not isinstance(file, str) or not file or path.is_absolute() or ":" in file
            or "\\" in file or ".." in path.parts):
        raise SummaryError(f"lecture summary: {where} must be a relative path below the page's "
                           f"folder, like 'figures/moon.png'; got {file!r}")


# ---------------------------------------------------------------------------- page

@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        extensions=["jinja2.ext.i18n"],
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = format_number
    env.filters["duration"] = format_duration
    env.filters["paragraphs"] = paragraphs
    # the current language's (vaekit.i18n.language, set by render_page); newstyle: escaped, %-formatted
    env.install_gettext_callables(_, ngettext, newstyle=True)
    return env


def render_page(summary: dict) -> str:
    """The page's HTML for ``summary`` (the dict written as ``summary.json``).

    Raises ``SummaryError`` naming the missing key or bad value where the summary does not fit
    the page.
    """
    check_summary(summary)
    lang = summary["settings"].get("lang", DEFAULT)
    try:
        with language(lang):
            return _environment().get_template(TEMPLATE).render(summary=summary, html_lang=HTML_LANG[lang],
                                                                 cjk=lang in CJK)
    except jinja2.UndefinedError as e:     # a key the checks above do not cover
        raise SummaryError(f"lecture summary: the page needs a value it lacks: {e.message}") from e


def write_page(summary: dict, out_dir: str | Path) -> Path:
    """Render the page and write it atomically as ``out_dir/index.html``; returns its path."""
    path = Path(out_dir) / PAGE_NAME
    write_text(path, render_page(summary))
    return path
