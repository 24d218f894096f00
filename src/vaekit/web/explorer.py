"""What the page shows, computed from one or two trained runs and their data; no HTTP here.

    explorer = Explorer(["runs/mnist-vae", "runs/mnist-ae"], data_dir=None, device="cpu")
    explorer.info()                        # what the page needs to draw its controls
    explorer.decode(0, z)                  # z (n, L) -> the mean images E[x|z], (n, C, H, W)
    explorer.encode(0, image)              # m, log_var and the reconstruction of an image
    explorer.score(0, image, k=100)        # ELBO, KL per dimension, importance-sampled log p(x), nats
    explorer.decode(0, z, y=3)             # a conditional model (``classes``): E[x|z, y] with the class y
    explorer.neighbors(images)             # nearest training image and how close real test images come

Notation as in ``models.vae``: m the code, σ = ``log_var`` its noise's log-variance, c = m + exp(σ/2)·e
the noisy code.  Every model of an explorer was trained on the same dataset, so a test index
or an upload means the same image to each.  A conditional model (``Loaded.classes`` not None:
q(z|x, y), p(x|z, y)) takes the class y, an int 0..C−1, in every method that encodes or decodes
(an unconditional one takes none: the model refuses it); its test codes (``points``) are each
test image's code under its own label.  Methods are safe to call from several threads at
once (the server runs them off its event loop): models only run forward, under no_grad, and
every random draw has its own seeded generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch

from ..data import load as load_dataset
from ..data.registry import POINT_DATASETS
from ..data.transforms import SPLIT_SEEDS, fixed_model_input
from ..errors import VaekitError
from ..eval.likelihood import log_px
from ..objectives.elbo import elbo
from ..rundir import current, load_model, read_config
from .copies import CopyCheck

MAX_CODES = 256                 # codes per decode request
MAX_ABS_CODE = 10_000           # |z| of every entry of a requested code (a prior draw stays within ±6)
MAX_STEPS = 64                  # interpolation steps
MAX_K = 5000                    # importance samples per score request
DEFAULT_K = 100
ENCODE_BATCH = 1000


@dataclass
class Image:
    """One image a request names: pixels (1, C, H, W) uint8, and its test index and label if it is a test image."""

    pixels: torch.Tensor
    index: int | None = None
    label: int | None = None


@dataclass
class Loaded:
    """One run: its model and the codes of the test set."""

    name: str
    kind: str                   # "vae" or "ae"
    model: torch.nn.Module
    classes: int | None         # C of a conditional model (y in 0..C-1), None for an unconditional one
    m: torch.Tensor             # (N, L) codes of the test set, CPU float32 (two stochastic layers: z1's, L = latent)
    test_input: torch.Tensor    # (N, C, H, W) the test set as this model is evaluated on it (binarised/dequantised)

    @property
    def latent(self) -> int:
        return self.m.shape[1]

    @cached_property
    def m_std(self) -> torch.Tensor:
        """The spread of each code dimension over the test set, (L,) float64 (zeros for one image)."""
        return self.m.double().std(0) if len(self.m) > 1 else torch.zeros(self.latent, dtype=torch.float64)

    @cached_property
    def order(self) -> list[int]:
        """The latent dimensions, most active (largest spread of m) first."""
        return torch.argsort(self.m_std, descending=True, stable=True).tolist()


def _config(run_dir: Path) -> dict:
    current(run_dir)                      # a clear error first if the folder holds no trained model
    config = read_config(run_dir)
    if config["kind"] == "gmm":
        raise VaekitError(f"{run_dir}: a Gaussian mixture run (vaekit gmm) has no code space; "
                          "vaekit serve explores a VAE or AE run (vaekit train)")
    if config["data"]["name"] in POINT_DATASETS:
        raise VaekitError(f"{run_dir}: trained on {config['data']['name']}, points rather than images; "
                          "vaekit serve shows image datasets")
    return config


class Explorer:
    """One or two runs trained on the same dataset, their test and training images, ready to serve."""

    def __init__(self, run_dirs, data_dir: str | None = None, device: torch.device | str = "cpu"):
        run_dirs = [Path(r) for r in run_dirs]
        if not 1 <= len(run_dirs) <= 2:
            raise VaekitError(f"vaekit serve takes one or two run directories; got {len(run_dirs)}")
        self.device = torch.device(device)
        configs = [_config(r) for r in run_dirs]
        first = configs[0]
        data_key = lambda c: (c["data"]["name"], c["fit"].get("image_size"), tuple(c["model"]["image_shape"]))  # noqa: E731
        for run_dir, config in zip(run_dirs[1:], configs[1:]):
            if data_key(config) != data_key(first):
                raise VaekitError(f"the two runs must be trained on the same data to be compared: {run_dirs[0]} on "
                                  f"{first['data']['name']} {tuple(first['model']['image_shape'])}, {run_dir} on "
                                  f"{config['data']['name']} {tuple(config['model']['image_shape'])}")
        fit = first["fit"]
        self.dataset = first["data"]["name"]
        kwargs = {"data_dir": data_dir or fit.get("data_dir"), "image_size": fit.get("image_size")}
        self.test = load_dataset(self.dataset, "test", **kwargs)
        self.train = load_dataset(self.dataset, "train", **kwargs)
        self.image_shape = tuple(self.test.images.shape[1:])
        inputs: dict[str, torch.Tensor] = {}
        self.models: list[Loaded] = []
        for run_dir, config in zip(run_dirs, configs):
            model = load_model(run_dir, device=self.device)
            if model.likelihood not in inputs:
                inputs[model.likelihood] = self.test.model_input(model.likelihood, device=self.device)
            x = inputs[model.likelihood]
            classes, y = None, None
            if model.conditional:          # each test image's code under its own label, q(z|x, y)
                if self.test.labels is None:
                    raise VaekitError(f"{run_dir}: a conditional model needs the test images' labels; "
                                      f"{self.dataset} has none")
                classes, y = model.config.classes, self.test.labels.to(self.device)
            with torch.no_grad():   # with two stochastic layers the code explored is z1, the one the decoder reads
                m = torch.cat([model.encode(x[i:i + ENCODE_BATCH], None if y is None else y[i:i + ENCODE_BATCH])[0]
                               for i in range(0, len(x), ENCODE_BATCH)])[:, :model.config.latent]
            self.models.append(Loaded(run_dir.resolve().name, config["kind"], model, classes, m.float().cpu(), x))
        self.copies = CopyCheck(self.train, self.test, self.device)   # its index builds in the background

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop building the nearest-image index, if it still is (``CopyCheck.close``)."""
        self.copies.close(timeout_s)

    # ---- what the page draws ---------------------------------------------------------------

    def info(self) -> dict:
        models = []
        for i, run in enumerate(self.models):
            models.append({
                "index": i, "run": run.name, "kind": run.kind, "latent_dim": run.latent,
                "stochastic_layers": run.model.config.stochastic_layers, "latent2": run.model.config.latent2,
                "prior": run.model.config.prior, "posterior": run.model.config.posterior,
                "condition": run.model.config.condition, "classes": run.classes,
                "image_shape": list(self.image_shape), "likelihood": run.model.likelihood, "dataset": self.dataset,
                "test_size": len(self.test), "train_size": len(self.train), "has_labels": self.test.labels is not None,
                "order": run.order, "m_std": _rounded(run.m_std), "start": _rounded(run.m[0]),
                "start_label": None if run.classes is None else int(self.test.labels[0]),   # the class start has
            })
        return {"models": models,
                "limits": {"max_codes": MAX_CODES, "max_abs_code": MAX_ABS_CODE, "max_steps": MAX_STEPS, "max_k": MAX_K,
                           "default_k": DEFAULT_K}}

    def points(self, model: int, projection: str = "dims", dims: tuple[int, int] | None = None) -> dict:
        """The test codes m on a plane: p = basis (z − center), basis (2, L) with orthonormal rows.

        "dims": two latent dimensions (default the two whose m varies most over the test set);
        "pca": the first two principal directions of m (signs fixed: each direction's largest
        entry is positive).  A one-dimensional code gets a second row of zeros.
        """
        run = self.models[model]
        m = run.m.double()
        latent = run.latent
        if projection == "dims":
            if dims is None:
                dims = tuple(run.order[:2])
            basis = torch.zeros(2, latent, dtype=torch.float64)
            for row, d in enumerate(dims[:latent]):
                basis[row, d] = 1.0
            center = torch.zeros(latent, dtype=torch.float64)
            axes = [f"z{d}" for d in dims[:latent]]
        else:
            center = m.mean(0)
            _, s, vh = torch.linalg.svd(m - center, full_matrices=False)
            vh = vh * torch.where(vh.gather(1, vh.abs().argmax(1, keepdim=True)) < 0, -1.0, 1.0)
            share = (s ** 2 / (s ** 2).sum().clamp_min(1e-300)).tolist()
            basis = torch.zeros(2, latent, dtype=torch.float64)
            basis[:min(2, latent)] = vh[:2]
            axes = [f"PC{i + 1} ({100 * share[i]:.0f}% of the variance)" for i in range(min(2, latent))]
        xy = (m - center) @ basis.T                                                     # (N, 2)
        labels = None if self.test.labels is None else self.test.labels.tolist()
        return {"projection": projection, "axes": axes + ["(none: the code has one dimension)"] * (2 - len(axes)),
                "basis": [_rounded(row, 6) for row in basis], "center": _rounded(center, 6),
                "x": _rounded(xy[:, 0]), "y": _rounded(xy[:, 1]), "labels": labels, "n": len(m)}

    # ---- images and codes ---------------------------------------------------------------------

    def test_image(self, index: int) -> Image:
        labels = self.test.labels
        return Image(self.test.images[index:index + 1], index, None if labels is None else int(labels[index]))

    def _input(self, model: int, image: Image) -> torch.Tensor:
        """The model's input for an image, (1, C, H, W): a test image's fixed binarisation/dequantisation
        (the one ``vaekit eval`` scores), an upload's own seeded one."""
        run = self.models[model]
        if image.index is not None:
            return run.test_input[image.index:image.index + 1]
        return fixed_model_input(image.pixels.to(self.device), run.model.likelihood, SPLIT_SEEDS["test"])

    def _y(self, model: int, y: int | None, n: int = 1) -> torch.Tensor | None:
        """The class y of n examples for the model's networks, (n,) int64: None stays None (an
        unconditional model; a conditional one then refuses, in one line); range-checked
        (``check_classes``)."""
        if y is None:
            return None
        y = torch.full((n,), y, dtype=torch.int64, device=self.device)
        self.models[model].model.check_classes(y)
        return y

    @torch.no_grad()
    def decode(self, model: int, z: torch.Tensor, y: int | torch.Tensor | None = None) -> torch.Tensor:
        """Codes z (n, L) -> the mean images E[x|z] (n, C, H, W) on the CPU, one batched decoder pass.

        y, for a conditional model: the class of every code (an int), or (n, C) one-hot rows (or mixes
        of them, as along an interpolation's path): E[x|z, y].  With two stochastic layers z is z1 (or
        the whole [z1, z2]): the decoder reads z1 alone, and z2 reaches x only through z1.
        """
        if isinstance(y, int):
            y = self._y(model, y, len(z))
        vae = self.models[model].model
        z = z.to(self.device)
        if z.shape[-1] < vae.latent_dim:   # z1 of [z1, z2]: z2 completes the code the decoder does not read
            z = torch.cat([z, z.new_zeros(len(z), vae.latent_dim - z.shape[-1])], dim=-1)
        return vae.decode(z, y=y).mean.float().cpu()

    @torch.no_grad()
    def sample(self, model: int, n: int, seed: int = 0, y: int | None = None) -> torch.Tensor:
        """n codes drawn from the model's own prior p(z), decoded: the mean images (n, C, H, W) on the CPU.

        The prior is the one the model was trained with (``models.priors``): N(0, I), the VampPrior,
        the learned mixture, or z2 ~ N(0, I) then z1 ~ p(z1|z2).  An AE has none: N(0, I), which its
        decoder never saw.  Seeded: the same seed draws the same codes.
        """
        run = self.models[model]
        g = torch.Generator(device=self.device).manual_seed(seed)
        if run.kind == "vae":
            with run.model.fixed_prior():
                z = run.model.prior.sample(n, g, self.device)
        else:
            z = torch.randn(n, run.model.latent_dim, generator=g, device=self.device)
        return self.decode(model, z, y)

    @torch.no_grad()
    def encode(self, model: int, image: Image, y: int | None = None) -> dict:
        """m, log_var and exp(σ) per dimension (None for an AE) and the reconstruction E[x|m]; a
        conditional model encodes and decodes with the class y, q(z|x, y) and E[x|m, y]."""
        run = self.models[model]
        m, log_var = run.model.encode(self._input(model, image), self._y(model, y))
        m, log_var = m[:, :run.latent], None if log_var is None else log_var[:, :run.latent]   # z1's (two layers)
        return {"m": m[0].cpu(), "log_var": None if log_var is None else log_var[0].cpu(),
                "reconstruction": self.decode(model, m, y)}

    @torch.no_grad()
    def score(self, model: int, image: Image, k: int = DEFAULT_K, seed: int = 0, y: int | None = None) -> dict:
        """The image's bound and likelihood, nats: ELBO = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)),
        E_q estimated with k draws from q(z|x) (``objectives.elbo.elbo``), KL exact per dimension
        where it has a closed form (else estimated over the same draws, no per-dimension split), and log p(x)
        importance-sampled with k further draws (``eval.likelihood.log_px``).  For an AE only
        log p(x|m), the reconstruction term.  A conditional model: the same given the class y,
        q(z|x, y), p(x|z, y) and log p(x|y).
        """
        run = self.models[model]
        x = self._input(model, image)
        y = self._y(model, y)
        m, log_var = run.model.encode(x, y)
        if log_var is None:
            recon = run.model.decode(m, y=y).log_prob(x).item()
            return {"kind": run.kind, "elbo": None, "recon": recon, "kl": None, "kl_per_dim": None,
                    "log_px": None, "k": None, "units": "nats per example"}
        g = torch.Generator(device=self.device).manual_seed(seed)
        terms = elbo(run.model, x, g, q=(m, log_var), samples=k, y=y)                    # means over k draws
        recon, per_dim = terms.recon.double().item(), terms.kl[0].double()
        kl = per_dim.sum().item()
        kl_per_dim = per_dim.tolist() if run.model.kl_in_closed_form else None   # else one estimate, no split
        lp = log_px(run.model, x, k=k, generator=g, y=y).item()
        return {"kind": run.kind, "elbo": recon - kl, "recon": recon, "kl": kl,
                "kl_per_dim": kl_per_dim, "log_px": lp, "k": k, "units": "nats per example"}

    @torch.no_grad()
    def interpolate(self, model: int, a: Image, b: Image, steps: int = 10, method: str = "linear",
                    code: str = "mean", seed: int = 0, y_a: int | None = None, y_b: int | None = None,
                    y: int | None = None) -> tuple[torch.Tensor, str]:
        """Decodes along the path from a's code to b's: (steps, C, H, W), and the code used.

        code "mean": the codes m; "sample": codes c ~ q(z|x) (c = m + exp(σ/2)·e for the diagonal
        Gaussian), one seeded draw each (an AE has no noise, so it uses m and says "mean").
        A conditional model encodes a with its class y_a and b with y_b, and decodes the whole path
        with the class y, or without one with the ends' one-hot classes mixed in the codes' proportions
        (``VAE.interpolate``).
        """
        run = self.models[model]
        ends = []
        g = torch.Generator(device=self.device).manual_seed(seed)
        used = "sample" if code == "sample" and run.kind == "vae" else "mean"
        for image, y_end in ((a, y_a), (b, y_b)):
            m, log_var = run.model.encode(self._input(model, image), self._y(model, y_end))
            end = run.model.q(m, log_var).rsample(generator=g)[0][0] if used == "sample" else m[0]
            ends.append(end[:run.latent])   # z1 of a two-layer model's [z1, z2]: the code the decoder reads
        codes = path(ends[0], ends[1], steps, method)
        if y is None and run.classes is not None and y_a is not None and y_b is not None:
            one_hot = torch.eye(run.classes, dtype=codes.dtype, device=codes.device)
            t = torch.linspace(0, 1, steps, device=codes.device, dtype=codes.dtype).unsqueeze(1)   # (steps, 1)
            y = (1 - t) * one_hot[y_a] + t * one_hot[y_b]                                        # (steps, C)
        return self.decode(model, codes, y), used

    # ---- is it a copy? -----------------------------------------------------------------------

    def neighbors(self, images: torch.Tensor) -> dict:
        """The nearest training image of one image, and where its distance falls among real test
        images' (``copies.CopyCheck.neighbors``)."""
        return self.copies.neighbors(images)


def path(a: torch.Tensor, b: torch.Tensor, steps: int, method: str = "linear") -> torch.Tensor:
    """Codes from a to b (L,), both ends included: (steps, L).

    "linear": (1 − t)·a + t·b.  "slerp": along the great circle, sin((1 − t)θ)/sin θ · a +
    sin(tθ)/sin θ · b with θ the angle between a and b (White 2016, "Sampling generative
    networks"), which keeps the norm of a prior draw typical instead of shrinking it midway;
    linear where θ is too small for the division (a and b nearly parallel).
    """
    t = torch.linspace(0, 1, steps, device=a.device, dtype=torch.float64).unsqueeze(1)   # (steps, 1)
    a64, b64 = a.double(), b.double()
    if method == "slerp":
        cos = (a64 @ b64) / (a64.norm() * b64.norm()).clamp_min(1e-300)
        theta = torch.arccos(cos.clamp(-1, 1))
        if theta.item() > 1e-4:
            out = (torch.sin((1 - t) * theta) * a64 + torch.sin(t * theta) * b64) / torch.sin(theta)
            return out.to(a.dtype)
    return ((1 - t) * a64 + t * b64).to(a.dtype)


def _rounded(values: torch.Tensor, digits: int = 4) -> list[float]:
    """A 1-d tensor as a list of floats rounded for JSON (4 decimals: far below a pixel on the plane)."""
    return [round(v, digits) if math.isfinite(v) else None for v in values.double().tolist()]
