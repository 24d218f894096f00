"""The lecture's five sections, one module each (``report.SECTIONS`` gives the order).

Each module has ``NUMBER``, ``ID``, ``TITLE``, ``CLAIM`` (the lecture's claim, in English with
its symbols m, σ, e, c; marked with ``N_`` and translated where it is shown), ``method()`` (how
the experiment tests it, in the current language), ``run(ctx) -> Section`` and
``conclusion(numbers) -> str``: the closing sentences, computed from the measured numbers so
that they can never contradict them, in the current language (``vaekit.i18n``).
"""
