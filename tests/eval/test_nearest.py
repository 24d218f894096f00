import torch

from vaekit.eval.nearest import NearestIndex, nearest_images


def test_index_search_equals_the_one_off_search():
    g = torch.Generator().manual_seed(0)
    refs = torch.randint(0, 256, (3000, 1, 6, 6), dtype=torch.uint8, generator=g)
    queries = torch.rand(700, 1, 6, 6, generator=g)          # floats in [0, 1]: decodes
    queries[:5] = refs[[10, 2999, 0, 1234, 77]].float() / 255  # exact copies are found at distance 0
    index = NearestIndex(refs)
    d, i = index.search(queries)
    d_ref, i_ref = nearest_images(queries, refs)
    assert torch.equal(i, i_ref) and torch.allclose(d, d_ref)
    assert torch.allclose(d[:5], torch.zeros(5), atol=1e-7) and i[:5].tolist() == [10, 2999, 0, 1234, 77]
    assert len(index) == 3000
