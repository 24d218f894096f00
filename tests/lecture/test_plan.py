"""The order in which `vaekit lecture` starts its runs side by side: the most work first, so that the
last runs to finish are short ones and neither core waits long for the other."""

from dataclasses import replace

from vaekit.lecture.plan import Plan, longest_first, work
from vaekit.train.config import GMMFitConfig, TrainConfig


def test_every_run_starts_once_the_longest_first():
    runs = Plan().runs()
    order = list(longest_first(runs))
    assert sorted(order) == sorted(runs)
    # the annealed 1-D-latent VAEs in D = 128 take longest (about 50 s of a core each), then come D = 32, 8, 2
    assert order[:3] == ["sweep-vae-d128", "sweep-vae-d128-s1", "sweep-vae-d128-s2"]
    first = {name: order.index(name) for name in order}
    assert max(first[f"sweep-vae-d32{s}"] for s in ("", "-s1", "-s2")) < first["sweep-vae-d8"]
    assert max(first[f"sweep-vae-d8{s}"] for s in ("", "-s1", "-s2")) < first["spiral-vae"]
    # every small mixture (16 components or fewer) after every VAE
    last_vae = max(i for i, name in enumerate(order) if isinstance(runs[name], TrainConfig))
    assert all(i > last_vae for i, name in enumerate(order)
               if isinstance(runs[name], GMMFitConfig) and runs[name].components <= 16)
    assert [work(runs[name]) for name in order] == sorted((work(cfg) for cfg in runs.values()), reverse=True)


def test_work_grows_with_what_a_run_does():
    runs = Plan().runs()
    vae, gmm = runs["spiral-vae"], runs["sweep-gmm-full-16-d8"]
    assert work(replace(vae, epochs=2 * vae.epochs)) == 2 * work(vae)
    assert work(replace(vae, k=32)) > work(vae)
    assert work(replace(vae, data="spiral-d32")) > work(vae)
    assert work(replace(vae, hidden=(128, 128))) > work(vae)
    assert work(replace(gmm, components=64)) > work(gmm) > work(replace(gmm, covariance="diag"))
    # data the plan does not know (a folder of images) count as MNIST's size
    image = runs["image-vae"]
    assert work(replace(image, data="some/folder")) == work(replace(image, data="mnist")) > work(image)
