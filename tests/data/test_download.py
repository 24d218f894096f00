"""Downloads from file:// mirrors only (no network): checksums, atomic replace, skipping.

The mirrors serve the full-count files built from tests/files (``data_files``), so the pinned
checksums are swapped for theirs (``pinned`` below); the download code is the same.  The real
pinned checksums are checked against the official files by ``bench/official_data.py``."""

import shutil

import pytest

from data_files import checksums
from vaekit.data import download, load, verify_checksum
from vaekit.data.download import RESOURCES, Resource
from vaekit.errors import DataError

MNIST_FILES = [r.filename for r in RESOURCES["mnist"]]


@pytest.fixture
def mnist_dir(mnist_full, monkeypatch):
    """A mirror folder of full-count MNIST files, whose checksums the download now pins."""
    monkeypatch.setitem(RESOURCES, "mnist", tuple(Resource(f, *checksums(mnist_full / f)) for f in MNIST_FILES))
    return mnist_full


@pytest.fixture
def frey_file(frey_full, monkeypatch):
    """A full-shape frey_rawface.mat, whose checksums the download now pins."""
    monkeypatch.setitem(RESOURCES, "frey", (Resource(frey_full.name, *checksums(frey_full)),))
    return frey_full


def test_download_mnist_then_load(tmp_path, mnist_dir):
    folder = download("mnist", data_dir=tmp_path, mirrors=[mnist_dir.as_uri()])
    assert folder == tmp_path / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(MNIST_FILES)  # no temporary files left
    for r in RESOURCES["mnist"]:
        verify_checksum(folder / r.filename, md5=r.md5, sha256=r.sha256)
    assert len(load("mnist", "test", data_dir=tmp_path)) == 10_000
    # present with the right checksums: nothing is fetched (this mirror does not exist)
    assert download("mnist", data_dir=tmp_path, mirrors=[(tmp_path / "no-such-mirror").as_uri()]) == folder


def test_default_target_is_the_cache(tmp_path, monkeypatch, frey_file):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = download("frey", mirrors=[frey_file.parent.as_uri()])
    assert folder == tmp_path / "cache" / "vaekit" / "frey"
    assert len(load("frey", "train")) == 1573  # found in the cache, no data_dir


def test_checksum_mismatch(tmp_path, mnist_dir):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in MNIST_FILES:
        (mirror / name).symlink_to(mnist_dir / name)
    (mirror / "t10k-labels-idx1-ubyte.gz").unlink()
    data = bytearray((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    data[100] ^= 0xFF
    (mirror / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(data))
    md5 = RESOURCES["mnist"][3].md5
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: expected a download with the pinned checksum, "
                                        r"every mirror failed: file://.*checksum mismatch: "
                                        rf"expected md5 {md5}, got [0-9a-f]{{32}}"):
        download("mnist", data_dir=tmp_path / "data", mirrors=[mirror.as_uri()])
    # the good files are in place; the bad one is not, nor is any temporary file
    assert sorted(p.name for p in (tmp_path / "data" / "mnist").iterdir()) == sorted(MNIST_FILES[:3])


def test_falls_back_to_the_next_mirror_and_replaces_a_bad_copy(tmp_path, frey_file):
    target = tmp_path / "data" / "frey"
    target.mkdir(parents=True)
    (target / "frey_rawface.mat").write_bytes(b"stale")
    missing = (tmp_path / "nowhere").as_uri()
    download("frey", data_dir=tmp_path / "data", mirrors=[missing, frey_file.parent.as_uri()])
    verify_checksum(target / "frey_rawface.mat", md5=RESOURCES["frey"][0].md5)
    assert [p.name for p in target.iterdir()] == ["frey_rawface.mat"]


def test_every_mirror_missing(tmp_path):
    with pytest.raises(DataError, match=r"frey_rawface\.mat: expected a download .*every mirror failed: file://.*nowhere/frey_rawface\.mat"):
        download("frey", data_dir=tmp_path, mirrors=[(tmp_path / "nowhere").as_uri()])


def test_unknown_download():
    with pytest.raises(DataError, match=r"download 'digits': expected one of mnist, fashion-mnist, frey"):
        download("digits")


def test_verify_checksum(tmp_path, frey_file):
    r = RESOURCES["frey"][0]
    verify_checksum(frey_file, md5=r.md5, sha256=r.sha256)
    copy = tmp_path / "copy.mat"
    shutil.copy(frey_file, copy)
    with open(copy, "r+b") as f:
        f.seek(500)
        f.write(b"\0\0\0")
    with pytest.raises(DataError, match=rf"copy\.mat: checksum mismatch: expected sha256 {r.sha256}, got [0-9a-f]{{64}}"):
        verify_checksum(copy, sha256=r.sha256)
    with pytest.raises(ValueError, match="expected md5 or sha256"):
        verify_checksum(copy)
