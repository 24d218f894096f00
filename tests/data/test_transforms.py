import math

import torch

from vaekit.data.transforms import TrainingBatches, bits_per_dim, dequantize, split_input


def test_dynamic_binarisation_probability_is_pixel_over_255():
    pixels = torch.arange(256, dtype=torch.uint8).view(256, 1, 1, 1).expand(256, 1, 1, 4000).contiguous()
    batches = TrainingBatches(pixels, "bernoulli")
    g = torch.Generator().manual_seed(0)
    x = batches(torch.arange(256), g).clone()
    assert x.dtype == torch.float32 and set(x.unique().tolist()) <= {0.0, 1.0}
    freq = x.mean((1, 2, 3))
    assert freq[0] == 0 and freq[255] == 1                       # black never, white always
    expected = torch.arange(256) / 255
    sd = (expected * (1 - expected) / 4000).sqrt()
    assert ((freq - expected).abs() <= 4.5 * sd + 1e-6).all()
    assert not torch.equal(x, batches(torch.arange(256), g))     # a fresh draw each call


def test_training_batches_reuse_one_output_buffer():
    images = torch.randint(0, 256, (50, 1, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    for likelihood in ("bernoulli", "gaussian"):
        batches, g = TrainingBatches(images, likelihood), torch.Generator().manual_seed(1)
        first = batches(torch.arange(10), g)
        kept = first.clone()
        second = batches(torch.arange(10, 20), g)
        assert second is first and not torch.equal(second, kept)   # overwritten by the next call
        last = batches(torch.arange(45, 50), g)                     # a smaller last batch
        assert last.shape == (5, 1, 4, 4) and batches(torch.arange(10), g).shape == (10, 1, 4, 4)


def test_dequantised_batches_are_dequantize_of_the_rows():
    images = torch.randint(0, 256, (30, 1, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    idx = torch.tensor([3, 17, 4, 29])
    y = TrainingBatches(images, "gaussian")(idx, torch.Generator().manual_seed(5))
    assert torch.equal(y, dequantize(images[idx], torch.Generator().manual_seed(5)))


def test_binarisation_thresholds_are_within_one_part_in_65536():
    pixels = torch.arange(256, dtype=torch.uint8).view(256, 1, 1, 1)
    t = TrainingBatches(pixels, "bernoulli").thresholds.view(-1).double() + 32768
    assert ((t / 65536 - torch.arange(256) / 255).abs() < 1 / 65536).all()


def test_fixed_split_input_is_deterministic_and_dequantised_in_range():
    images = torch.randint(0, 256, (50, 1, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(split_input(images, "bernoulli", "test"), split_input(images, "bernoulli", "test"))
    assert not torch.equal(split_input(images, "bernoulli", "test"), split_input(images, "bernoulli", "val"))
    y = dequantize(images, torch.Generator().manual_seed(0))
    assert (y >= images / 256).all() and (y < (images.double() + 1) / 256).all()


def test_bits_per_dim_conventions():
    assert math.isclose(bits_per_dim(-100 * math.log(2), 100, "bernoulli"), 1.0)
    # a uniform density on [0, 1)^D is 8 bits per 8-bit pixel
    assert math.isclose(bits_per_dim(0.0, 784, "gaussian"), 8.0)
