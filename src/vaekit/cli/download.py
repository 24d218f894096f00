"""``vaekit download NAME``: fetch a dataset's official files and verify their checksums."""

from __future__ import annotations


def add_parser(sub, parents):
    p = sub.add_parser("download", parents=parents, help="download mnist, fashion-mnist or frey",
                       description="Download a dataset's official files into --data-dir (default: the cache "
                                   "folder vaekit looks in), verifying each file's checksum.")
    p.add_argument("name", help="mnist, fashion-mnist or frey")
    p.add_argument("--data-dir", help="where to put the files")
    p.add_argument("--mirror", action="append", help="base URL to fetch from instead of the official mirrors (repeatable)")
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    from ..data.download import download

    path = download(args.name, data_dir=args.data_dir, mirrors=args.mirror)
    print(f"{args.name}: files verified in {path}")
    return 0
