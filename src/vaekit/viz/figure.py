"""One matplotlib Figure on its own Agg canvas, and its PNG bytes: what every viz module draws on.

A ``matplotlib.figure.Figure`` with ``FigureCanvasAgg`` never touches pyplot or the
process-wide backend (a notebook's, say), so drawing here has no side effect.

Figures in Chinese (``vaekit.i18n``) need a font with its glyphs: inside ``language_fonts("zh-TW")``
text is drawn in DejaVu Sans, matplotlib's default (so letters and symbols look as in the English
figures), falling back glyph by glyph to the first CJK font of CJK_FONTS that is installed
(Debian: ``fonts-noto-cjk``).
"""

from __future__ import annotations

import io
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

DPI = 110   # pixels per inch of the lecture's figures: readable at 450-900 CSS px
BASE_FONT = "DejaVu Sans"
# Fonts with the glyphs of Traditional Chinese, best first (Taiwan's forms before the Japanese and
# simplified Chinese faces of the same collections).
CJK_FONTS = ("Noto Sans CJK TC", "Noto Sans TC", "Source Han Sans TC", "Source Han Sans TW", "Noto Sans CJK HK",
             "Noto Sans CJK JP", "Noto Sans CJK SC", "Source Han Sans", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "AR PL UMing TW", "Droid Sans Fallback", "Microsoft JhengHei", "PingFang TC", "Heiti TC")
_CJK_FILES = ("notosanscjk", "notosanstc", "sourcehansans", "wqy-zenhei", "wqy-microhei", "uming",
              "droidsansfallback")   # file names of those fonts, for a font cache older than their install


def new_figure(width: float, height: float, layout: str | None = None, dpi: int = DPI):
    """A Figure of width × height inches on its own Agg canvas; ``layout``: matplotlib's ("constrained", ...)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig) -> bytes:
    """The figure as PNG bytes, at its own dpi."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 3})   # zlib's default 6 takes ~3x longer
    return buf.getvalue()


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed font of CJK_FONTS that matplotlib can draw with, or None."""
    from matplotlib import font_manager

    def known() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    names = known()
    if not names.intersection(CJK_FONTS):
        # matplotlib's font cache is not refreshed when a font is installed after it was built
        # (apt-get install fonts-noto-cjk): add the system's CJK font files to this process's fonts.
        for path in font_manager.findSystemFonts():
            if Path(path).name.lower().startswith(_CJK_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):   # a font file FreeType cannot read
                    continue
        names = known()
    return next((name for name in CJK_FONTS if name in names), None)


@contextmanager
def language_fonts(lang: str):
    """The figures drawn inside the block get the fonts ``lang`` needs; yields the CJK font used, or None.

    A language in Latin letters: nothing changes.  Chinese (``vaekit.i18n.CJK``): matplotlib's ``font.family`` becomes [DejaVu Sans, the CJK
    font] for the block (glyph-by-glyph fallback; restored after).  Without a CJK font the default
    stays and matplotlib's per-glyph "missing" warnings are silenced: the caller says it once
    (``vaekit lecture`` warns on stderr).
    """
    from ..i18n import CJK

    if lang not in CJK:
        yield None
        return
    import matplotlib

    font = cjk_font()
    if font is None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
            yield None
        return
    with matplotlib.rc_context({"font.family": [BASE_FONT, font]}):
        yield font
