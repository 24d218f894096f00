"""Find English left in a translated page or figure: any English word that is not one of the lecture's symbols.

    >>> english_words("VAE 的 log p(x) 是每張影像 -23.32 nats")
    []
    >>> english_words("VAE 的 mean distance")
    ['mean', 'distance']

A word is a run of two or more ASCII letters.  Symbols stay in every language and are not words:
single letters (m, σ, e, c, z, x, k, d, t ...), identifiers (``L_b``, ``log_var``,
``Dataset.model_input``), command-line flags (``--quick``) and commands (``vaekit eval``), anything
between backticks or dollars (a figure's mathtext), numbers and versions (``2e-3``, ``2.13.0+cpu``),
and the names in SYMBOLS: abbreviations of models and measures, functions of the
formulas, units, and proper names.  Every other word is English a reader would have to read, so a
single one fails the check.  ``page_text`` gives what a reader sees of a page: its text outside
``<code>`` and ``<style>``, its title and its images' alt texts.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

SYMBOLS = frozenset({
    # models, methods and measures, by their abbreviations
    "AE", "VAE", "IWAE", "GMM", "KL", "ELBO", "EM", "MLP", "RMS", "Adam", "NaN",
    # functions and units in the formulas and numbers
    "log", "ln", "exp", "diag", "dz", "nats", "bits", "dim", "min",
    # names: the program, its library, the data set on the page, a paper's author
    "vaekit", "torch", "digits", "MNIST", "Burda",
})
_NOT_WORDS = re.compile(
    r"`[^`]*`"                                   # code between backticks
    r"|\$[^$]*\$"                                 # matplotlib's mathtext: $\mathdefault{10^{2}}$
    r"|--[A-Za-z][\w-]*"                         # a command-line flag
    r"|\bvaekit [a-z]+"                          # a command: vaekit eval, vaekit serve
    r"|[A-Za-z_][\w]*(?:[._][\w]+)+"             # an identifier with a dot or an underscore: L_b, Dataset.model_input
    r"|\d[\w.,+]*(?:e[-+]?\d+)?")                # a number or a version: 1e-10, 2.13.0+cpu
_WORD = re.compile(r"[A-Za-z]{2,}")


def english_words(text: str) -> list[str]:
    """The English words of ``text`` (in order, repeats kept) that are not symbols."""
    return [w for w in _WORD.findall(_NOT_WORDS.sub(" ", text)) if w not in SYMBOLS]


class _Visible(HTMLParser):
    """The text a reader sees: data outside <code>, <style> and <script>; <title>; alt and aria-label values."""

    SKIP = {"code", "style", "script"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        for name, value in attrs:
            if name in ("alt", "aria-label", "title") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.parts.append(data.strip())


def page_text(html: str) -> list[str]:
    """The visible pieces of text of a page (see ``_Visible``), in order."""
    parser = _Visible()
    parser.feed(html)
    return parser.parts


def english_in(pieces) -> list[tuple[str, list[str]]]:
    """(piece, its English words) for every piece of text that has any."""
    return [(p, words) for p in pieces if (words := english_words(p))]
