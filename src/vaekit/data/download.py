"""Fetching the named datasets' official files, with pinned checksums and atomic writes.

Each file is streamed to a temporary file in the target folder while its MD5 and SHA-256
are computed; only when they match the pinned values is it renamed into place
(``os.replace``, atomic), so the target folder never holds a partial or wrong file.  A
mirror that fails or serves a wrong file is skipped for the next one; when every mirror
fails, DataError names the file and each failure (with expected and got checksums).
Files already present with the right checksum are not fetched again.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .. import validate
from ..atomic import fsync_dir
from ..errors import DataError
from ..settings import setting
from .locate import cache_dir


class Resource(NamedTuple):
    filename: str
    md5: str
    sha256: str | None = None


MIRRORS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                      "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
    "frey": ("https://cs.nyu.edu/~roweis/data/",),
}

# MD5s: the official ones (as torchvision pins them); SHA-256s of the same bytes where we have them.
RESOURCES = {
    "mnist": (
        Resource("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                 "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        Resource("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432",
                 "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        Resource("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3",
                 "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        Resource("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c",
                 "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    ),
    # Debian's dataset-fashion-mnist ships these files re-gzipped (other gzip header, so other
    # .gz checksums) with identical contents; it needs no download (see ``locate``).
    "fashion-mnist": (
        Resource("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        Resource("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        Resource("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        Resource("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ),
    "frey": (
        Resource("frey_rawface.mat", "5aeb024d42b8a6091f30e5eb18c8a48d",
                 "265a83a23adb081755cd3de375509828e690324d1d60f076b8ecebc840d59c64"),
    ),
}

_CHUNK = 1 << 20
_TIMEOUT_S = 60
_FETCH_ERRORS = (urllib.error.URLError, OSError, ValueError, http.client.HTTPException)


def _hashers():
    return hashlib.md5(usedforsecurity=False), hashlib.sha256()


def _mismatch(md5_got: str, sha256_got: str, md5: str | None, sha256: str | None) -> str | None:
    """'expected ..., got ...' for the first pinned checksum that differs, else None."""
    if md5 is not None and md5_got != md5.lower():
        return f"expected md5 {md5}, got {md5_got}"
    if sha256 is not None and sha256_got != sha256.lower():
        return f"expected sha256 {sha256}, got {sha256_got}"
    return None


def verify_checksum(path: str | os.PathLike, md5: str | None = None, sha256: str | None = None) -> None:
    """DataError unless the file at ``path`` has the given MD5 and/or SHA-256 (hex digests)."""
    if md5 is None and sha256 is None:
        raise ValueError("verify_checksum: expected md5 or sha256 (or both), got neither")
    path = Path(path)
    md5_h, sha_h = _hashers()
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                md5_h.update(chunk)
                sha_h.update(chunk)
    except FileNotFoundError:
        raise DataError(f"{path}: expected a file to verify, found none") from None
    except OSError as err:
        raise DataError(f"{path}: expected a readable file to verify, "
                        f"got {type(err).__name__}: {err.strerror}") from None
    problem = _mismatch(md5_h.hexdigest(), sha_h.hexdigest(), md5, sha256)
    if problem:
        raise DataError(f"{path}: checksum mismatch: {problem}")


def _fetch_to_temp(url: str, folder: Path, name: str) -> tuple[Path, str, str]:
    """Stream ``url`` into a new temporary file in ``folder``; (its path, md5, sha256)."""
    md5_h, sha_h = _hashers()
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                md5_h.update(chunk)
                sha_h.update(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp), md5_h.hexdigest(), sha_h.hexdigest()


def _fetch(resource: Resource, bases: list[str], dest: Path) -> None:
    """Fetch one file into ``dest`` from the first mirror that serves it with the pinned checksums."""
    failures = []
    for base in bases:
        url = base.rstrip("/") + "/" + resource.filename
        try:
            tmp, md5_got, sha256_got = _fetch_to_temp(url, dest.parent, resource.filename)
        except _FETCH_ERRORS as err:
            failures.append(f"{url}: {getattr(err, 'reason', None) or err}")
            continue
        problem = _mismatch(md5_got, sha256_got, resource.md5, resource.sha256)
        if problem:
            tmp.unlink()
            failures.append(f"{url}: checksum mismatch: {problem}")
            continue
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
        return
    raise DataError(f"{resource.filename}: expected a download with the pinned checksum, every mirror "
                    f"failed: {'; '.join(failures) or 'no mirrors given'}")


@dataclass(frozen=True)
class DownloadConfig:
    """Where ``download`` puts a dataset's files and where it fetches them from: the source of
    ``vaekit download``'s flags."""

    data_dir: str | None = setting(None, "where to put the files")
    mirror: tuple[str, ...] = setting((), "base URL to fetch from instead of the official mirrors (repeatable)",
                                      repeat=True)

    def __post_init__(self):
        validate.text("data_dir", self.data_dir, optional=True)
        object.__setattr__(self, "mirror", validate.texts("mirror", self.mirror))


def download(name: str, data_dir: str | os.PathLike | None = None, mirrors: list[str] | None = None) -> Path:
    """Fetch the files of dataset ``name`` (mnist, fashion-mnist or frey); returns their folder.

    The folder is ``<data_dir>/<name>`` (where ``load(name, data_dir=data_dir)`` looks first),
    or the cache ``$XDG_CACHE_HOME/vaekit/<name>``.  mirrors: base URLs tried in order,
    replacing the official ones (``file://`` URLs work too).
    """
    if name not in RESOURCES:
        raise DataError(f"download {name!r}: expected one of {', '.join(RESOURCES)}")
    folder = Path(data_dir).expanduser() / name if data_dir is not None else cache_dir(name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"{folder}: expected a folder to download into, "
                        f"got {type(err).__name__}: {err.strerror}") from None
    bases = list(MIRRORS[name] if mirrors is None else mirrors)
    for resource in RESOURCES[name]:
        dest = folder / resource.filename
        if dest.is_file():
            try:
                verify_checksum(dest, resource.md5, resource.sha256)
                continue
            except DataError:
                pass  # a damaged or stale copy: fetch it again, replacing it atomically
        _fetch(resource, bases, dest)
    return folder
