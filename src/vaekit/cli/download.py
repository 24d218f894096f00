"""``vaekit download NAME``: fetch a dataset's official files and verify their checksums."""

from __future__ import annotations

from ..data.download import DownloadConfig
from .flags import add_config_flags, config_values


def add_parser(sub, parents):
    p = sub.add_parser("download", parents=parents, help="download mnist, fashion-mnist or frey",
                       description="Download a dataset's official files into --data-dir (default: the cache "
                                   "folder vaekit looks in), verifying each file's checksum.")
    p.add_argument("name", help="mnist, fashion-mnist or frey")
    add_config_flags(p, DownloadConfig)
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    from ..data.download import download

    cfg = DownloadConfig(**config_values(args, DownloadConfig))
    path = download(args.name, data_dir=cfg.data_dir, mirrors=list(cfg.mirror) or None)
    print(f"{args.name}: files verified in {path}")
    return 0
