"""The lecture page's message catalogs (``vaekit.i18n``, domain ``vaekit``), under src/vaekit/locale/.

    python scripts/catalogs.py           extract the messages (babel.cfg) into vaekit.pot, merge them into
                                         each language's .po (new ones empty, gone ones dropped) and compile
                                         every .mo; then translate what is empty and run `compile`
    python scripts/catalogs.py compile   compile each .po into its .mo (after editing a translation)
    python scripts/catalogs.py check     list what is out of step (exit 1 if anything): what
                                         tests/lecture/test_i18n.py asserts

The .pot, the .po files and the compiled .mo files are committed: an installed vaekit reads the .mo
with the standard library's gettext and needs no compile step.  Python messages are str.format
strings ("{pv:.0f} % of ..."): Babel's guess that their "%" is a %-format is dropped; the template's
messages are Jinja2's newstyle gettext, %-formatted ("%(num)d seeds").
"""

from __future__ import annotations

import io
import re
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "src" / "vaekit"                 # babel.cfg's patterns are relative to it
LOCALE = SOURCE / "locale"
DOMAIN = "vaekit"
TEMPLATE = LOCALE / f"{DOMAIN}.pot"
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}   # gettext: a {% trans %} block
COMMENT_TAGS = ("TRANSLATORS:",)
_PERCENT = re.compile(r"%\((\w+)\)[-#0 +]?\d*(?:\.\d+)?[diouxXeEfFgGcrs]|%%")


def languages() -> list[str]:
    """The translated languages: gettext's folder names under LOCALE (zh_TW)."""
    return sorted(p.parent.parent.name for p in LOCALE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    """Every message the code and the template mark now, as a template catalog."""
    with open(REPO / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    catalog = Catalog(project="vaekit", copyright_holder="vaekit authors", msgid_bugs_address="",
                      charset="utf-8")
    for filename, _lineno, message, comments, context in extract_from_dir(
            str(SOURCE), method_map, options_map, keywords=KEYWORDS, comment_tags=COMMENT_TAGS,
            strip_comment_tags=True):
        catalog.add(message, None, [(f"src/vaekit/{filename}", None)], auto_comments=comments, context=context)
    for message in catalog:
        if message.id and all(path.endswith(".py") for path, _ in message.locations):
            message.flags.discard("python-format")      # a str.format string: its "%" is literal
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    buf = io.BytesIO()
    write_po(buf, catalog, width=0, include_lineno=False, sort_by_file=True, ignore_obsolete=True)
    path.write_bytes(buf.getvalue())


def _read(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f, locale=locale)


def compiled(language: str) -> bytes:
    """The .mo bytes of a language's .po, as they should be committed."""
    buf = io.BytesIO()
    write_mo(buf, _read(po_path(language), language), use_fuzzy=False)
    return buf.getvalue()


def update() -> None:
    """Extract into the .pot (keeping its creation date if it exists) and merge it into every .po."""
    template = extract()
    if TEMPLATE.exists():
        template.creation_date = _read(TEMPLATE).creation_date
    _write(template, TEMPLATE)
    for language in languages():
        catalog = _read(po_path(language), language)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False, keep_user_comments=True,
                       update_creation_date=False)
        catalog.obsolete.clear()
        _write(catalog, po_path(language))


def compile_all() -> None:
    for language in languages():
        po_path(language).with_suffix(".mo").write_bytes(compiled(language))


def _ids(catalog: Catalog) -> set:
    return {m.id for m in catalog if m.id}


def fields(text: str) -> list[str]:
    """The placeholders of a message, sorted, each once: str.format fields with their format specs
    ("{pv:.0f}") and %-fields ("%(num)d")."""
    out = []
    try:
        for _literal, name, spec, conversion in string.Formatter().parse(text):
            if name is not None:
                out.append("{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}")
    except ValueError:
        out.append("<unbalanced braces>")
    out += [m.group(0) for m in _PERCENT.finditer(text) if m.group(0) != "%%"]
    return sorted(set(out))


def template_problems() -> list[str]:
    """The .pot against the code: a message the code marks that it lacks, or one the code no longer marks."""
    out = []
    code, template = _ids(extract()), _ids(_read(TEMPLATE))
    for missing in sorted(code - template, key=str):
        out.append(f"{TEMPLATE.name}: lacks a message the code marks (run scripts/catalogs.py): {missing!r}")
    for stale in sorted(template - code, key=str):
        out.append(f"{TEMPLATE.name}: holds a message the code no longer marks (run scripts/catalogs.py): {stale!r}")
    return out


def translation_problems(language: str) -> list[str]:
    """A language's .po against the .pot: every message there, translated (not empty, not fuzzy) with the
    message's placeholders, and no other."""
    out = []
    template = _ids(_read(TEMPLATE))
    path = po_path(language)
    catalog = _read(path, language)
    where = f"{language}/{path.name}"
    for missing in sorted(template - _ids(catalog), key=str):
        out.append(f"{where}: lacks the message (run scripts/catalogs.py): {missing!r}")
    for stale in sorted(_ids(catalog) - template, key=str):
        out.append(f"{where}: holds a message the code no longer marks (run scripts/catalogs.py): {stale!r}")
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        if message.fuzzy:
            out.append(f"{where}: fuzzy (check it, then remove the flag): {ids[0]!r}")
        if not all(s and s.strip() for s in strings):
            out.append(f"{where}: untranslated: {ids[0]!r}")
            continue
        want = fields(ids[-1])       # a plural's msgstr[0] serves every n: it takes the plural's fields
        for s in strings:
            if fields(s) != want:
                out.append(f"{where}: placeholders {fields(s)} differ from the message's {want}: {ids[0]!r}")
    return out


def _messages(mo: bytes) -> dict:
    """A compiled catalog's messages, {id: translation}, its header included."""
    return {m.id if isinstance(m.id, str) else tuple(m.id): m.string for m in read_mo(io.BytesIO(mo))}


def compiled_problems(language: str) -> list[str]:
    """A language's .mo against its .po: the messages ``compile`` would write (compared as messages, not
    bytes, so that another Babel release's byte layout is no difference)."""
    mo = po_path(language).with_suffix(".mo")
    if mo.exists() and _messages(mo.read_bytes()) == _messages(compiled(language)):
        return []
    return [f"{language}/{mo.name}: not compiled from the current {DOMAIN}.po (run scripts/catalogs.py compile)"]


def problems() -> list[str]:
    """Everything out of step, one line each (the three checks above, for every language)."""
    out = template_problems()
    if not languages():
        out.append(f"{LOCALE}: no translation (*/LC_MESSAGES/{DOMAIN}.po)")
    for language in languages():
        out += translation_problems(language) + compiled_problems(language)
    return out


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "update"
    if command == "update":
        update()
        compile_all()
    elif command == "compile":
        compile_all()
    elif command != "check":
        print(f"catalogs.py: unknown command {command!r}; expected update (default), compile or check",
              file=sys.stderr)
        return 2
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    untranslated = sum("untranslated" in line for line in found)
    if command != "check" and found:
        print(f"catalogs.py: {len(found)} problem(s), {untranslated} untranslated", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
