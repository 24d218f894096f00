"""``vaekit lecture``: the VAE lecture's five ideas as experiments, written into a report folder."""

from __future__ import annotations

import sys

from ..i18n import CJK
from ..lecture.plan import Plan   # the lecture's settings (it imports no torch)
from .flags import add_config_flags, config_values

DEFAULT_OUT = "report"


def add_parser(sub, parents):
    p = sub.add_parser(
        "lecture", parents=parents, help="run the VAE lecture's experiments and write a report page",
        description="Train what the lecture's five sections need (AE vs VAE on moons, the variance constraint, "
                    "finite vs infinite mixtures, the bound vs log p(x), blur and copying), measure, and write "
                    "OUT/index.html (open it in a browser) and OUT/summary.json (every number, with units). "
                    "Finished runs are cached in OUT/runs/: a second call reuses them. Time on a 2-core CPU "
                    "(measured): about 6 minutes by default (embedded data, 3 seeds), 1.5 minutes with --quick, "
                    "about 10 minutes with --data mnist (then about 35 s once cached).")
    p.add_argument("--out", metavar="DIR", default=DEFAULT_OUT, help=f"report folder (default: {DEFAULT_OUT})")
    add_config_flags(p, Plan)
    p.set_defaults(func=main)
    return p


class Progress:
    """tqdm bars on a terminal (the section, the run being trained); one summary line per section always."""

    def __init__(self, total_sections: int, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total = total_sections
        self.bar = None
        self.section = ""
        self.trained = self.reused = 0

    def report_started(self, path) -> None:
        print(f"report folder: {path}", flush=True)

    def runs_trained(self, count: int, seconds: float, workers: int) -> None:
        if count:
            print(f"trained {count} run(s) in {seconds:.1f} s ({workers} processes side by side)", flush=True)

    def section_started(self, number: int, title: str) -> None:
        self.section = f"{number}/{self.total} {title}"
        self.trained = self.reused = 0

    def run_started(self, name: str, total: int, cached: bool) -> None:
        if cached:
            self.reused += 1
            return
        self.trained += 1
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=f"[{self.section}] {name}", unit="epoch" if "gmm" not in name
                            else "EM step", leave=False, file=self.stream, dynamic_ncols=True)

    def run_step(self, name: str, done: int) -> None:
        if self.bar is not None:
            self.bar.update(done - self.bar.n)

    def run_finished(self, name: str) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def section_finished(self, section) -> None:
        print(f"{section.number}. {section.title}: {section.seconds:.1f} s, {self.trained} run(s) trained, "
              f"{self.reused} reused. {first_sentence(section.conclusion)}", flush=True)


def first_sentence(text: str) -> str:
    """The first sentence of a conclusion, with its full stop (an English "." or a Chinese "。")."""
    head = text.split(". ")[0]
    if "。" in head:
        return head.split("。")[0] + "。"
    return head.rstrip(".") + "."


def main(args) -> int:
    from ..lecture.report import SECTIONS, build
    from ..rundir import command_line

    plan = Plan(**config_values(args, Plan))
    if plan.lang in CJK:
        from ..viz.figure import cjk_font

        if cjk_font() is None:
            print(f"vaekit: warning: no CJK font found for the figures' {plan.lang} labels (install one, "
                  "e.g. apt-get install fonts-noto-cjk); they are drawn in the default font, which lacks the "
                  "Chinese characters", file=sys.stderr, flush=True)
    summary = build(plan, args.out, listener=Progress(len(SECTIONS)), command=command_line(args.argv))
    print(f"wrote {args.out}/index.html and summary.json in {summary['seconds']:.0f} s "
          f"(open {args.out}/index.html in a browser)")
    return 0
