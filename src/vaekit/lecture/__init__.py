"""``vaekit lecture``: the VAE lecture's five ideas as experiments with pictures and measured numbers.

    plan.py      what is trained (every run, by name; quick and default sizes)
    cache.py     the runs as ordinary run directories under OUT/runs/, trained once, then reused
    context.py   what a section works with; its figures and numbers
    sections/    one module per idea: moon, variance, mixture, bound, problems
    page.py      the page, rendered from summary.json with a Jinja2 template
    report.py    build(plan, out): runs the sections, writes summary.json and index.html

The page's words are gettext messages (``vaekit.i18n``): ``Plan(lang="zh-TW")`` writes it, its
figures and summary.json in Traditional Chinese, from the same runs.

    >>> from vaekit.lecture.plan import Plan
    >>> from vaekit.lecture.report import build
    >>> summary = build(Plan(quick=True), "report")     # report/index.html, report/summary.json
"""
