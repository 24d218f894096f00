"""The pieces that make W processes train the one-process run, checked in one process.

A rank's share of a global batch (``distributed.split``) must tile the batch; the rows a share
gets from ``TrainingBatches`` and the code noise the hand-written step draws for it must be the
rows of the whole batch's draws; and the gradients of the shares, weighted by their sizes, must
add up to the whole batch's gradient.  (Real multi-process runs: test_distributed.py.)
"""

import pytest
import torch

from vaekit import distributed
from vaekit.data.transforms import TrainingBatches
from vaekit.models import ModelConfig, build_model
from vaekit.train.handwritten_step import HandWrittenMLPElboStep


def shares(n: int, world: int, monkeypatch) -> list[slice]:
    monkeypatch.setattr(distributed, "world_size", lambda: world)
    out = []
    for r in range(world):
        monkeypatch.setattr(distributed, "rank", lambda r=r: r)
        out.append(distributed.split(n))
    return out


@pytest.mark.parametrize("world", [1, 2, 3, 5])
def test_shares_tile_the_batch_and_differ_by_at_most_one(world, monkeypatch):
    for n in range(0, 23):
        parts = shares(n, world, monkeypatch)
        assert [p.start for p in parts[1:]] == [p.stop for p in parts[:-1]]       # contiguous, in rank order
        assert parts[0].start == 0 and parts[-1].stop == n
        sizes = [p.stop - p.start for p in parts]
        assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)   # the first n % W take one more


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_a_share_of_a_batch_gets_the_rows_of_the_whole_batchs_noise(likelihood, monkeypatch):
    images = torch.randint(0, 256, (40, 1, 5, 5), dtype=torch.uint8)
    idx = torch.randperm(40, generator=torch.Generator().manual_seed(1))[:13]
    whole = TrainingBatches(images, likelihood)(idx, torch.Generator().manual_seed(7)).clone()
    batches = TrainingBatches(images, likelihood)
    pieces = []
    for part in shares(13, 3, monkeypatch):
        g = torch.Generator().manual_seed(7)
        pieces.append(batches(idx, g, rows=part).clone())
    assert torch.equal(torch.cat(pieces), whole)


def test_weighted_share_gradients_add_up_to_the_batch_gradient(monkeypatch):
    model = build_model(ModelConfig(image_shape=(1, 6, 6), hidden=(16,), latent=3), seed=0)
    x = (torch.rand(11, 1, 6, 6, generator=torch.Generator().manual_seed(2)) > 0.5).float()
    step = HandWrittenMLPElboStep(model)
    total = step(x, 1.0, torch.Generator().manual_seed(5)).item()
    whole = [p.grad.clone() for p in model.parameters()]
    summed = [torch.zeros_like(p) for p in model.parameters()]
    share_total = 0.0
    for part in shares(11, 3, monkeypatch):
        t = step(x[part], 1.0, torch.Generator().manual_seed(5), rows=(11, part))
        share_total += t.item()
        for s, p in zip(summed, model.parameters()):
            s += p.grad * ((part.stop - part.start) / 11)          # distributed.sum_gradients' weighting
    assert share_total == pytest.approx(total, rel=1e-5)
    for s, w in zip(summed, whole):
        torch.testing.assert_close(s, w, rtol=1e-4, atol=1e-6)


def test_outside_torchrun_every_collective_is_the_identity():
    t = torch.arange(3.0)
    assert distributed.world_size() == 1 and distributed.rank() == 0 and distributed.is_main()
    assert distributed.all_sum(t) is t and distributed.sum_floats(1.5, 2) == [1.5, 2.0]
    assert distributed.broadcast_object({"a": 1}) == {"a": 1} and distributed.on_main(lambda: 4) == 4
    assert distributed.split(7) == slice(0, 7)
