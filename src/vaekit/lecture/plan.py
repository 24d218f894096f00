"""What ``vaekit lecture`` trains: every run of every section, by name, in one place.

Sections ask for runs by name (``Context.train("image-vae")``); one run can serve several
sections (the image VAE is section 2's "with KL", section 4's training curve and section
5's samples).  A run's config is its identity in the cache (``cache.RunCache``): change a
setting here and only the runs it touches are trained again.

Sizes: ``quick`` is the same experiments, smaller (used by the tests; its target is 90 s on a
2-core CPU with the embedded data, the default's 5 minutes; measured: README, "Time and memory").  The image sections use
``data`` (default: scikit-learn's 8×8 digits, embedded); the moon, the 2-D density and the
linear model use vaekit's generated data (``moons``, ``spiral``, ``linear-gaussian``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import validate
from ..i18n import LANGUAGES
from ..settings import check_choices, device_setting, setting
from ..train.config import GMMFitConfig, TrainConfig

EMBEDDED = "digits"
# GMM component counts: the finite mixture, from one Gaussian up (section 3).
SPIRAL_COMPONENTS = (1, 4, 16, 64)
IMAGE_COMPONENTS = (1, 10, 50)
# How the 1-D-latent VAE on the spiral is trained (hidden 64,64, latent 1, Gaussian decoder).  "plain": the ELBO
# with a KL warm-up (without it the code collapses at once to one Gaussian); from a random start its decoded
# curve settles across the arms, a local optimum that neither 4 random restarts nor longer training left.
# "annealed": the IWAE bound (k = 16) with the decoder's std fixed at f, 0.3 -> 0.02 over the first 40 of 48
# epochs, its own variance fitted alongside, then its own (--anneal-std): the curve follows the spiral in 3 of 3
# seeds (bench/spiral_recipe.py).  One random start each: "spiral-vae" (annealed), "spiral-vae-plain" the lesson.
SPIRAL_RECIPES = {
    "plain": dict(epochs=30, warmup_epochs=10),
    "annealed": dict(objective="iwae", k=16, anneal_std=(0.3, 0.02), anneal_std_epochs=40, epochs=48),
}
QUICK_SPIRAL = {"plain": dict(epochs=15), "annealed": dict(epochs=24, anneal_std_epochs=20)}   # --quick: half
# The same manifold in D dimensions: mixtures (full and diagonal) of these sizes against the 1-D-latent VAE.
SWEEP_DIMS = (2, 8, 32, 128)
SWEEP_COMPONENTS, QUICK_SWEEP_COMPONENTS = (1, 4, 16, 64, 256), (1, 16)
SWEEP_MAX_ITER = 30              # EM iterations of the sweep's mixtures (the D = 128, M = 256 fit is the largest)
MAX_SEEDS = 20


DEFAULT_SEEDS, QUICK_SEEDS = 3, 1
# The runs trained once per seed: each section's headline measures are a mean over seeds (the
# others are drawn from the first seed).
SEEDED = ("moon-pair-ae", "moon-pair-vae", "image-vae", "image-vae-nokl", "linear-vae",
          "spiral-vae", "spiral-vae-plain", *(f"sweep-vae-d{d}" for d in SWEEP_DIMS[1:]))


@dataclass(frozen=True)
class Plan:
    """The lecture's settings (the source of ``vaekit lecture``'s flags) and the sizes they imply.

    ``seeds``: how many seeds the headline measures use (None: 3, or 1 with ``quick``).  ``lang``:
    the page's language (``vaekit.i18n.LANGUAGES``); not a run setting: runs are shared.
    """

    data: str = setting(EMBEDDED, "image data of sections 2-5: digits (default, embedded), mnist, fashion-mnist, "
                                  "frey, or a path to images/.npy/.npz", metavar="DATA")
    data_dir: str | None = setting(None, "folder holding the dataset's files (mnist, fashion-mnist, frey)",
                                   metavar="DIR")
    quick: bool = setting(False, "the same sections, smaller and faster (under a minute)")
    device: str = device_setting()
    seed: int = setting(0, "random seed of every run (default 0)")
    seeds: int | None = setting(None, f"train each section's main models with N seeds (--seed, --seed + 1, ...) "
                                      f"and report the headline measures' mean and spread (default {DEFAULT_SEEDS}; "
                                      f"1 with --quick; at most {MAX_SEEDS})", metavar="N")
    lang: str = setting("en", "the page's language: en (default) or zh-TW (Traditional Chinese, the language of the "
                              "lecture notes); the trained runs are shared by both", choices=LANGUAGES)

    def __post_init__(self):
        validate.text("data", self.data)
        validate.text("data_dir", self.data_dir, optional=True)
        validate.boolean("quick", self.quick)
        check_choices(self)
        validate.seed("seed", self.seed)
        if self.seeds is not None:
            with validate.note("each seed trains the sections' main models again"):
                validate.integer("seeds", self.seeds, 1, MAX_SEEDS)

    @property
    def n_seeds(self) -> int:
        """How many seeds the headline measures use: ``seeds``, else 3 (1 with ``quick``)."""
        if self.seeds is not None:
            return self.seeds
        return QUICK_SEEDS if self.quick else DEFAULT_SEEDS

    @property
    def large_images(self) -> bool:
        """Image data of MNIST's size (28×28 and tens of thousands of images), not the 8×8 digits."""
        return self.data != EMBEDDED

    def _epochs(self, default: int, quick: int) -> int:
        return quick if self.quick else default

    def _image(self, **settings) -> TrainConfig:
        """A run on the image data (``data``)."""
        if self.large_images:
            base = dict(hidden=(400,), latent=20, epochs=self._epochs(20, 3), log_px_k=50)
        else:
            base = dict(hidden=(256,), latent=8, epochs=self._epochs(200, 60), log_px_k=100)
        base.update(data=self.data, data_dir=self.data_dir, seed=self.seed, device=self.device)
        base.update(settings)
        if base.get("log_px_every") == 0:
            base.pop("log_px_k")   # no estimate during training: the setting would be refused as ignored
        return TrainConfig(**base)

    def _spiral(self, recipe: str) -> TrainConfig:
        """The 1-D-latent VAE on the spiral, trained by ``SPIRAL_RECIPES[recipe]``."""
        settings = {**SPIRAL_RECIPES[recipe], **(QUICK_SPIRAL[recipe] if self.quick else {})}
        return TrainConfig(data="spiral", hidden=(64, 64), latent=1, likelihood="gaussian", log_px_every=0,
                           seed=self.seed, device=self.device, **settings)

    def runs(self) -> dict[str, TrainConfig | GMMFitConfig]:
        """Every run the lecture may train, by name: the first seed's (``seed``) under their own names,
        and for each further seed i the SEEDED runs again as ``seeded(name, i)`` with seed ``seed + i``."""
        runs = self._runs()
        for i in range(1, self.n_seeds):
            runs.update({seeded(name, i): replace(runs[name], seed=runs[name].seed + i)
                         for name in SEEDED if name in runs})
        return runs

    @property
    def sweep_recipe(self) -> str:
        """How the sweep's VAEs are trained (``SPIRAL_RECIPES``): annealed, as section 3's; with ``quick``, the plain
        ELBO (the annealed runs in D = 8, 32 and 128 take about a minute and a half of one core together)."""
        return "plain" if self.quick else "annealed"

    def sweep_vae_run(self, dim: int) -> str:
        """The run of the sweep's VAE in D = ``dim``: in D = 2, section 3's own spiral VAE trained the same way."""
        if dim == 2:
            return "spiral-vae" if self.sweep_recipe == "annealed" else "spiral-vae-plain"
        return f"sweep-vae-d{dim}"

    @property
    def sweep_components(self) -> tuple[int, ...]:
        return QUICK_SWEEP_COMPONENTS if self.quick else SWEEP_COMPONENTS

    def _runs(self) -> dict[str, TrainConfig | GMMFitConfig]:
        """The runs of the first seed, by name."""
        common = dict(seed=self.seed, device=self.device)
        pair = dict(data="moons-pair", hidden=(256,), latent=2, lr=2e-3, batch_size=64, lr_schedule="cosine",
                    log_px_every=0, **common)
        pair_epochs = self._epochs(30, 15)
        runs: dict[str, TrainConfig | GMMFitConfig] = {
            # 1. the moon in the lecture's setting: full and half moons only, a plain AE and a VAE with a 2-D
            # code; then the fair test of the VAE (a larger KL weight, three times the epochs)
            "moon-pair-ae": TrainConfig(model="ae", epochs=pair_epochs, **pair),
            "moon-pair-vae": TrainConfig(model="vae", epochs=pair_epochs, **pair),
            "moon-pair-vae-beta4": TrainConfig(model="vae", epochs=pair_epochs, beta=4.0, **pair),
            "moon-pair-vae-long": TrainConfig(model="vae", epochs=3 * pair_epochs, **pair),
            # ... and the contrast, every phase in the data: a plain AE and a VAE with a 2-D code (lr 2e-3 annealed, batch 64: at lr 1e-3,
            # batch 128 the decoders were still blurred/speckled when the epochs ran out)
            "moon-ae": TrainConfig(data="moons", model="ae", hidden=(256,), latent=2, epochs=self._epochs(40, 12),
                                   lr=2e-3, batch_size=64, lr_schedule="cosine", log_px_every=0, **common),
            "moon-vae": TrainConfig(data="moons", model="vae", hidden=(256,), latent=2, epochs=self._epochs(40, 12),
                                    lr=2e-3, batch_size=64, lr_schedule="cosine", log_px_every=0, **common),
            # 2. the variance constraint: the image VAE with and without the KL term
            "image-vae": self._image(log_px_every=1),
            "image-vae-nokl": self._image(beta=0.0, log_px_every=0),
            # 3. the finite and the infinite mixture: the 2-D density (the 1-D-latent VAE trained two ways,
            # SPIRAL_RECIPES), then the image data
            "spiral-vae": self._spiral("annealed"),
            "spiral-vae-plain": self._spiral("plain"),
            "image-gauss-vae": self._image(likelihood="gaussian", log_px_every=0),
            # 4. the bound: the linear VAE (exact log p(x)) and a better q (IWAE training)
            # (lr 3e-2 annealed to 0: at 1e-3 twenty epochs end ~20 nats below the ceiling; the annealing
            # settles the encoder, whose small errors cost much against the narrow posterior, std ~0.1)
            "linear-vae": TrainConfig(data="linear-gaussian", arch="linear", latent=2, likelihood="gaussian",
                                      epochs=self._epochs(60, 20), lr=3e-2, lr_schedule="cosine", log_px_every=1,
                                      **common),
            "image-iwae": self._image(objective="iwae", k=5, log_px_every=0),
        }
        for m in SPIRAL_COMPONENTS:
            runs[f"spiral-gmm-{m}"] = GMMFitConfig(data="spiral", components=m, covariance="full", **common)
        # 3, the lecture's claim where it matters: the spiral in D dimensions (D = 2 is the spiral itself)
        for d in SWEEP_DIMS:
            data = "spiral" if d == 2 else f"spiral-d{d}"
            if d > 2:
                runs[f"sweep-vae-d{d}"] = replace(self._spiral(self.sweep_recipe), data=data)
            for cov in ("full", "diag"):
                for m in self.sweep_components:
                    runs[f"sweep-gmm-{cov}-{m}-d{d}"] = GMMFitConfig(data=data, components=m, covariance=cov,
                                                                      max_iter=SWEEP_MAX_ITER, **common)
        for m in IMAGE_COMPONENTS:
            runs[f"image-gmm-{m}"] = GMMFitConfig(data=self.data, data_dir=self.data_dir, components=m,
                                                   covariance="diag", **common)
        return runs

    def settings(self) -> dict:
        return {"data": self.data, "data_dir": self.data_dir, "quick": self.quick, "seed": self.seed,
                "seeds": self.n_seeds, "device": self.device, "lang": self.lang}


# What the start order of the runs (``longest_first``) assumes of the datasets read from files: (training
# examples, values per example).  Only the order depends on it; data not listed (a path) count as MNIST's size.
# The generated datasets' sizes are their own modules' (``train_shape``).
FILE_TRAIN_SHAPES = {"digits": (1257, 64), "mnist": (50000, 784), "fashion-mnist": (50000, 784), "frey": (1572, 560)}
STEP_WORK = 2e7        # one optimiser step's fixed cost (Python, kernel launches) in multiply-adds: ~1 ms of a core
UNIT_WORK = 100        # one activation's element-wise work (bias, nonlinearity, sampling, log-densities), the same
COMPONENT_WORK = 3000  # one point against one mixture component in an EM iteration (full covariance; diagonal: a third)


def work(cfg: TrainConfig | GMMFitConfig) -> float:
    """A rough count of the multiply-adds a run's training takes, to start the longest runs first.

    A VAE or AE: epochs × (examples × 3 (forward and backward) × (weights + UNIT_WORK × activations), the
    decoder's counted k times, + steps × STEP_WORK).  A mixture: EM iterations × points × components ×
    COMPONENT_WORK (small models spend their time on overheads, not on their few weights: these constants
    order the lecture's runs as their measured times do).  A rough count is enough: it only orders the runs
    (a wrong guess costs a core some idle time at the end)."""
    n, dim = train_shape(cfg.data)
    if isinstance(cfg, GMMFitConfig):
        return cfg.max_iter * n * cfg.components * COMPONENT_WORK / (1 if cfg.covariance == "full" else 3)
    k = cfg.codes_per_example()[0]
    encoder, decoder = [dim, *cfg.hidden, 2 * cfg.latent], [cfg.latent, *reversed(cfg.hidden), 2 * dim]
    per_example = sum(a * b + UNIT_WORK * b for widths, times in ((encoder, 1), (decoder, k))
                      for a, b in zip(widths, widths[1:]) for _ in range(times))
    steps = -(-n // cfg.batch_size)
    return cfg.epochs * (3 * n * per_example + steps * STEP_WORK)


def train_shape(data: str) -> tuple[int, int]:
    """(training examples, values per example) of ``data``, as ``work`` counts them: the generated datasets'
    from their own modules (imported here, not at start-up: they import torch), the others' from
    FILE_TRAIN_SHAPES."""
    from ..data import linear_gaussian, moons, spiral

    if data == "spiral" or data.startswith("spiral-d"):
        return spiral.SPLIT_SIZES["train"], 2 if data == "spiral" else int(data.removeprefix("spiral-d"))
    if data in ("moons", "moons-pair"):
        sizes = moons.SPLIT_SIZES if data == "moons" else moons.PAIR_SPLIT_SIZES
        return sizes["train"], 28 * 28          # the moons are drawn at 28×28 unless image_size says otherwise
    if data == "linear-gaussian":
        return linear_gaussian.SPLIT_SIZES["train"], linear_gaussian.DIM
    return FILE_TRAIN_SHAPES.get(data, FILE_TRAIN_SHAPES["mnist"])


def longest_first(runs: dict[str, TrainConfig | GMMFitConfig]) -> dict[str, TrainConfig | GMMFitConfig]:
    """``runs`` in the order to start them side by side: most ``work`` first, so that the last runs to
    finish are short ones and no core waits long for the others (ties keep the plan's order)."""
    return dict(sorted(runs.items(), key=lambda item: -work(item[1])))


def seeded(name: str, i: int) -> str:
    """The name of run ``name`` trained with the i-th seed (0: the first, ``name`` itself)."""
    return name if i == 0 else f"{name}-s{i}"
