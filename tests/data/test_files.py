"""Path datasets: image folders and .npy/.npz arrays, their carved splits, and bad inputs."""

import numpy as np
import pytest
import torch
from PIL import Image

from vaekit.data import load
from vaekit.errors import DataError

RNG = np.random.default_rng(0)


def write_images(folder, arrays, suffix=".png"):
    folder.mkdir(parents=True, exist_ok=True)
    for i, a in enumerate(arrays):
        Image.fromarray(a).save(folder / f"img{i:03d}{suffix}")
    return folder


def gray(n, h=6, w=5):
    return [RNG.integers(0, 256, (h, w), dtype=np.uint8) for _ in range(n)]


def all_images(path, **kw):
    return torch.cat([load(str(path), s, **kw).images for s in ("train", "val", "test")])


def test_grayscale_folder(tmp_path):
    arrays = gray(20)
    folder = write_images(tmp_path / "faces", arrays)
    (folder / "notes.txt").write_text("ignored")
    train, val, test = (load(str(folder), s) for s in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (16, 2, 2)
    assert train.image_shape == (1, 6, 5) and train.labels is None and train.images.is_contiguous()
    # the three splits together are exactly the files, each once
    got = sorted(map(bytes, all_images(folder).numpy()))
    assert got == sorted(bytes(a[None]) for a in arrays)


def test_splits_keep_sorted_file_order(tmp_path):
    arrays = [np.full((4, 4), i, np.uint8) for i in range(30)]
    folder = write_images(tmp_path / "f", arrays)
    for split in ("train", "val", "test"):
        values = load(str(folder), split).images[:, 0, 0, 0].tolist()
        assert values == sorted(values)


def test_mixed_modes_become_rgb(tmp_path):
    folder = write_images(tmp_path / "f", gray(9) + [RNG.integers(0, 256, (6, 5, 3), dtype=np.uint8)])
    images = all_images(folder)
    assert images.shape == (10, 3, 6, 5)
    rgb = np.asarray(Image.open(folder / "img009.png"))
    assert any(np.array_equal(im.permute(1, 2, 0).numpy(), rgb) for im in images)


def test_jpeg_folder(tmp_path):
    folder = write_images(tmp_path / "f", gray(10), suffix=".jpg")
    assert all_images(folder).shape == (10, 1, 6, 5)


def test_different_sizes_need_image_size(tmp_path):
    folder = write_images(tmp_path / "f", gray(9) + gray(1, 7, 5))
    with pytest.raises(DataError, match=r"img009\.png: expected every image to be 5x6 .*got 5x7; pass `image_size` to resize them all"):
        load(str(folder))
    assert all_images(folder, image_size=(8, 6)).shape == (10, 1, 8, 6)
    assert load(str(folder), image_size=4).image_shape == (1, 4, 4)


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: expected PNG/JPEG images \(\*\.png, \*\.jpg, \*\.jpeg\), found none"):
        load(str(tmp_path / "empty"))


def test_unreadable_image_is_named(tmp_path):
    folder = write_images(tmp_path / "f", gray(10))
    (folder / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(DataError, match=r"bad\.png: expected a readable PNG/JPEG image, got"):
        load(str(folder))


def test_sixteen_bit_image_is_refused(tmp_path):
    folder = write_images(tmp_path / "f", gray(10))
    Image.fromarray(np.zeros((6, 5), np.uint16)).save(folder / "deep.png")
    with pytest.raises(DataError, match=r"deep\.png: expected an 8-bit image, got mode I;16"):
        load(str(folder))


def test_npy_gray_and_channels_last(tmp_path):
    gray_arr = RNG.integers(0, 256, (20, 6, 5), dtype=np.uint8)
    np.save(tmp_path / "g.npy", gray_arr)
    assert all_images(tmp_path / "g.npy").shape == (20, 1, 6, 5)
    rgb = RNG.integers(0, 256, (20, 6, 5, 3), dtype=np.uint8)
    np.save(tmp_path / "c.npy", rgb)
    test = load(str(tmp_path / "c.npy"), "test")
    assert test.image_shape == (3, 6, 5)
    assert any(np.array_equal(test.images[0].permute(1, 2, 0).numpy(), x) for x in rgb)


def test_npz_choice_of_array(tmp_path):
    a = RNG.integers(0, 256, (10, 4, 4), dtype=np.uint8)
    np.savez(tmp_path / "one.npz", anything=a)
    np.savez(tmp_path / "named.npz", images=a, labels=np.arange(10))
    np.savez(tmp_path / "x.npz", x=a, y=np.arange(10))
    for name in ("one", "named", "x"):
        assert torch.equal(all_images(tmp_path / f"{name}.npz").sort(0).values,
                           torch.from_numpy(a[:, None]).sort(0).values)
    np.savez(tmp_path / "two.npz", a=a, b=a)
    with pytest.raises(DataError, match=r"two\.npz: expected one array, or one named images or x, got arrays a, b"):
        load(str(tmp_path / "two.npz"))


def test_npy_wrong_dtype(tmp_path):
    np.save(tmp_path / "f.npy", np.zeros((10, 4, 4), np.float32))
    with pytest.raises(DataError, match=r"f\.npy: expected dtype uint8 \(pixels 0\.\.255\), got float32"):
        load(str(tmp_path / "f.npy"))


@pytest.mark.parametrize("shape", [(10, 16), (10, 4, 4, 2), (0, 4, 4)])
def test_npy_wrong_shape(tmp_path, shape):
    np.save(tmp_path / "s.npy", np.zeros(shape, np.uint8))
    with pytest.raises(DataError, match=rf"s\.npy: expected shape \(N, H, W\) or channels-last .*got \({shape[0]}, {shape[1]}"):
        load(str(tmp_path / "s.npy"))


def test_corrupt_npy(tmp_path):
    (tmp_path / "c.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match=r"c\.npy: expected a readable numpy array file"):
        load(str(tmp_path / "c.npy"))


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match=r"nothing\.npy: expected an image folder or a \.npy/\.npz file, found nothing"):
        load(str(tmp_path / "nothing.npy"))


def test_too_few_images_for_a_split(tmp_path):
    np.save(tmp_path / "tiny.npy", np.zeros((5, 4, 4), np.uint8))
    assert len(load(str(tmp_path / "tiny.npy"), "train")) == 5
    with pytest.raises(DataError, match=r"tiny\.npy: expected enough items for a non-empty test split .*got N=5; need at least 10"):
        load(str(tmp_path / "tiny.npy"), "test")


def test_a_huge_image_size_is_refused_before_anything_is_resized(tmp_path):
    from vaekit.errors import ConfigError

    folder = write_images(tmp_path / "small", gray(20))
    np.save(tmp_path / "small.npy", np.stack(gray(20)))
    # 20 images at 100,000 x 100,000 are 186 GiB: never allocated, for a folder, an array or drawn moons
    for name in (folder, tmp_path / "small.npy", "moons"):
        with pytest.raises(ConfigError, match=r"image_size: [\d,]+ images of 1x100000x100000 need about"):
            load(str(name), "train", image_size=100_000)
