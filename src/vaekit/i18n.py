"""The lecture page's languages: one gettext domain, ``vaekit``, and the language of the text being made.

    LANGUAGES        ("en", "zh-TW"): English, the source text, and Traditional Chinese (Taiwan), the
                     language of the lecture notes
    language(lang)   a context manager: inside it ``_`` and ``ngettext`` translate into ``lang``
    _ / ngettext     translate now (gettext's; the English text is the message id)
    N_               marks a constant for the catalog without translating it: ``_(CONSTANT)`` where it is used
    sentences(parts) the sentences of a paragraph, joined as the language joins them

Strings with values are format strings with named fields, translated first and formatted after:
``_("{pv:.0f} % of the VAE's decodes").format(pv=pv)``, never an f-string inside ``_()``.  The page's
template (``lecture/templates``) uses the same catalog through Jinja2's i18n extension.

The catalog lives beside this module: ``locale/vaekit.pot`` (every message, extracted from the
code and the template by ``scripts/catalogs.sh`` with ``babel.cfg``), ``locale/zh_TW/LC_MESSAGES/
vaekit.po`` (the translation, with its glossary) and the compiled ``vaekit.mo``.  All three are
committed; ``tests/lecture/test_i18n.py`` fails when they are out of step with the code or with
each other, or when a message lacks its translation.

The language is a context variable, so a thread or task sees its own; outside any ``language``
block it is English.
"""

from __future__ import annotations

import gettext
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

DOMAIN = "vaekit"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "zh-TW")
DEFAULT = "en"
CATALOGS = {"zh-TW": "zh_TW"}                    # gettext's folder under LOCALE_DIR for each translated language
HTML_LANG = {"en": "en", "zh-TW": "zh-Hant-TW"}  # the page's <html lang> (BCP 47: Traditional script, Taiwan)
CJK = frozenset({"zh-TW"})                       # written in CJK characters: the page and figures need CJK fonts
# Between the sentences of a paragraph: an English sentence ends in ". " and a Chinese one in "。", no space.
_SEPARATORS = {"en": " ", "zh-TW": ""}

_current: ContextVar[str] = ContextVar("vaekit_language", default=DEFAULT)


def check_language(lang) -> str:
    """``lang`` if it is one of LANGUAGES, else ValueError naming them."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return lang


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English: none, the message ids are the English text)."""
    check_language(lang)
    if lang == DEFAULT:
        return gettext.NullTranslations()
    mo = LOCALE_DIR / CATALOGS[lang] / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        with open(mo, "rb") as f:
            return gettext.GNUTranslations(f)
    except OSError as e:
        raise FileNotFoundError(f"{mo}: the {lang} catalog is missing ({e.strerror}); "
                                "reinstall vaekit or run scripts/catalogs.sh compile") from None


@contextmanager
def language(lang: str):
    """Inside the block, ``_``/``ngettext``/``sentences`` speak ``lang``; the language before it comes back after."""
    translations(lang)                     # an unknown language or a missing catalog fails here, not mid-page
    token = _current.set(lang)
    try:
        yield lang
    finally:
        _current.reset(token)


def current() -> str:
    """The language of the text being made now."""
    return _current.get()


def _(message: str) -> str:
    """``message`` (its English text, the catalog's message id) in the current language."""
    if not message:        # gettext's "" is the catalog's header
        return message
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language (Chinese has one form)."""
    return translations(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog and return it untranslated (translate it with ``_`` where it is shown)."""
    return message


def sentences(parts) -> str:
    """Sentences joined into a paragraph: with a space in English, with nothing after a Chinese "。"."""
    return _SEPARATORS[current()].join(parts)
