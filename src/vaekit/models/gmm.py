"""The lecture's finite Gaussian mixture, P(x) = Σ_m P(m) P(x|m), fitted by EM.

A VAE is the same model with infinitely many components, P(x) = ∫ P(c) P(x|c) dc.  Fitted
on the same dequantised data (y = (pixel + u)/256 in [0, 1)^D, ``data.transforms``) both are
densities on the same space, so their log-likelihoods compare directly: nats per example,
every constant kept, and bits/dim via ``bits_per_dim(log_px, D, "gaussian")``.

Buffers (float64, saved by ``state_dict``), m = 1..M components, D = C·H·W:
    log_weights (M,)      log P(m)
    means       (M, D)    μ_m
    var         (M, D)    ``diag``: Σ_m = diag(var_m)
    scale_tril  (M, D, D) ``full``: the lower Cholesky factor L_m of Σ_m = L_m L_mᵀ
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch
from torch import nn

from ..errors import ConfigError
from ..validate import choice, number, positive_int, size, sizes
from .config import COVARIANCES, config_from_dict

CHUNK = 4096          # rows per E-step block: 25 MB of float64 at D = 784 (51 MB as diag's [x, x²])
KMEANS_ITERS = 10     # Lloyd iterations after k-means++ seeding
MIN_LOG_RESP = -460   # P(m|x) < e^-460 ≈ 1e-200 counts as 0 (see _e_step)
DEAD = 1e-6           # a component with less total responsibility than this keeps its parameters
LOG_2PI = math.log(2 * math.pi)
F64 = torch.float64


@dataclass(frozen=True)
class GMMConfig:
    """What a mixture is: M ``components`` with ``diag`` or ``full`` covariances on images of
    ``image_shape`` (C, H, W); ``reg_covar`` is added to every variance (as scikit-learn does)."""

    components: int
    covariance: str
    image_shape: tuple[int, int, int]
    reg_covar: float = 1e-6

    def __post_init__(self):
        size("components", self.components)
        choice("covariance", self.covariance, COVARIANCES)
        # JSON round trips give lists
        object.__setattr__(self, "image_shape", sizes("image_shape", self.image_shape, 3))
        object.__setattr__(self, "reg_covar", number("reg_covar", self.reg_covar, low=0))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "GMMConfig":
        return config_from_dict(cls, d, "GMM")


class GaussianMixture(nn.Module):
    """P(x) = Σ_m P(m) N(x; μ_m, Σ_m) on flattened images; ``fit`` runs EM, ``log_prob`` scores.

    A ``DensityModel`` (``models.protocol``): ``log_prob`` is the exact log P(x),
    ``sample`` draws from P(x), ``likelihood`` is "gaussian".  Fitted state after ``fit``
    (not saved): ``n_iter_``, ``converged_``, ``log_likelihood_`` (mean log P(x) per example
    in nats of the returned parameters on the training data).
    """

    log_prob_is_exact: ClassVar[bool] = True   # a finite sum over components, computed exactly

    def __init__(self, config: GMMConfig):
        super().__init__()
        self.config = config
        m, d = config.components, math.prod(config.image_shape)
        self.register_buffer("log_weights", torch.full((m,), -math.log(m), dtype=F64))
        self.register_buffer("means", torch.zeros(m, d, dtype=F64))
        if config.covariance == "diag":
            self.register_buffer("var", torch.ones(m, d, dtype=F64))
        else:
            # zeros + a filled diagonal, not torch.eye: under the meta device (checkpoint loading) eye
            # imports torch's compiler stack, a second or two per process
            scale_tril = torch.zeros(m, d, d, dtype=F64)
            scale_tril.diagonal(dim1=1, dim2=2).fill_(1)
            self.register_buffer("scale_tril", scale_tril)

    @property
    def likelihood(self) -> str:
        """A continuous density on [0, 1]^D, scored like the Gaussian-likelihood VAE."""
        return "gaussian"

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def extra_repr(self) -> str:
        return f"components={self.config.components}, covariance={self.config.covariance}, dim={self.dim}"

    # ---- densities -------------------------------------------------------------------------

    @torch.no_grad()
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """The exact log P(x) = logsumexp_m [log P(m) + log N(x; μ_m, Σ_m)] per example.

        x: (N, D) or (N, C, H, W) float -> (N,) float64, nats, every constant kept, on the
        model's device.
        """
        x = self._flat(x)
        out = [self._log_joint(block).logsumexp(1) for block in self._blocks(x)]
        return torch.cat(out) if out else torch.empty(0, dtype=F64, device=self.means.device)

    def _log_joint(self, x: torch.Tensor) -> torch.Tensor:
        """A block from ``_blocks`` -> log P(m) + log N(x; μ_m, Σ_m): (B, M)."""
        d = self.dim
        if self.config.covariance == "diag":
            prec = 1 / self.var
            # -½ Σ_d (x-μ)²/v = x·(μ/v) - ½ x²·(1/v) - ½ Σ_d μ²/v: one matmul serves every component.
            w = torch.cat([self.means * prec, -0.5 * prec], 1)  # (M, 2D), against [x, x²]
            const = d * LOG_2PI + self.var.log().sum(1) + (self.means.square() * prec).sum(1)
            return self.log_weights - 0.5 * const + (w @ x.T).T  # not x @ w.T: 2x slower with MKL
        maha = torch.empty(len(x), self.config.components, dtype=F64, device=x.device)
        for m, (mu, tril) in enumerate(zip(self.means, self.scale_tril)):
            e = torch.linalg.solve_triangular(tril, (x - mu).T, upper=False)  # L⁻¹(x - μ): (D, B)
            maha[:, m] = e.square().sum(0)
        log_det = 2 * self.scale_tril.diagonal(dim1=1, dim2=2).log().sum(1)  # log |Σ_m|
        return self.log_weights - 0.5 * (d * LOG_2PI + log_det + maha)

    # ---- EM ----------------------------------------------------------------------------------

    @torch.no_grad()
    def fit(self, x: torch.Tensor, max_iter: int = 100, tol: float = 1e-3,
            generator: torch.Generator | None = None, callback=None) -> "GaussianMixture":
        """EM from a k-means++/Lloyd start, on x's device; returns self.

        x: (N, D) or (N, C, H, W) float.  Each iteration scores the current parameters
        (E-step; ``callback(iteration, mean log P(x) in nats)``) and then updates them (M-step),
        except when the score improved by less than ``tol`` nats per example (converged) or
        on the last of ``max_iter`` iterations: the returned parameters are always the ones
        scored last, so ``log_likelihood_`` is their exact training log-likelihood.
        """
        x = self._flat(x)
        n, components = len(x), self.config.components
        if n < components:
            raise ConfigError(f"components must be at most the number of training examples ({n}); got {components}",
                              setting="components")
        positive_int("max_iter", max_iter)
        number("tol", tol, low=0)
        if not torch.isfinite(x).all():
            raise ValueError("x holds NaN or infinite values")
        self.to(x.device)
        self._init(x, generator)
        previous, self.converged_ = -math.inf, False
        for iteration in range(1, max_iter + 1):
            mean_ll, stats = self._e_step(x)
            self.n_iter_, self.log_likelihood_ = iteration, mean_ll
            if callback is not None:
                callback(iteration, mean_ll)
            if mean_ll - previous < tol:
                self.converged_ = True
                break
            previous = mean_ll
            if iteration < max_iter:
                self._m_step(*stats)
        return self

    def _e_step(self, x: torch.Tensor):
        """Mean log P(x) of the current parameters, and the sufficient statistics of the next."""
        stats, total = self._new_stats(), torch.zeros((), dtype=F64, device=x.device)
        for xc in self._blocks(x):
            log_joint = self._log_joint(xc)
            log_px = log_joint.logsumexp(1)
            total += log_px.sum()
            # Responsibilities P(m|x).  Dropping those below 1e-200 moves no statistic by more than
            # N·1e-200, and keeps denormal numbers (~100x slower on x86) out of the matmuls.
            log_resp = log_joint - log_px[:, None]
            self._accumulate(stats, xc, torch.where(log_resp > MIN_LOG_RESP, log_resp.exp(), 0.0))
        return (total / len(x)).item(), stats

    def _new_stats(self):
        m, d, dev = self.config.components, self.dim, self.means.device
        second = (m, d) if self.config.covariance == "diag" else (m, d, d)
        return (torch.zeros(m, dtype=F64, device=dev), torch.zeros(m, d, dtype=F64, device=dev),
                torch.zeros(second, dtype=F64, device=dev))

    def _accumulate(self, stats, x: torch.Tensor, resp: torch.Tensor) -> None:
        """Add a block's Σ r, Σ r x and Σ r x² (diag) or Σ r (x-μ)(x-μ)ᵀ about the current μ (full)."""
        nk, s1, s2 = stats
        nk += resp.sum(0)
        if self.config.covariance == "diag":
            both = resp.T @ x  # x is [x, x²]
            s1 += both[:, :self.dim]
            s2 += both[:, self.dim:]
            return
        s1 += resp.T @ x
        for m, mu in enumerate(self.means):
            rows = resp[:, m] > 0  # hard-ish assignments: most rows add nothing to most components
            d = x[rows] - mu
            s2[m] += (d * resp[rows, m, None]).T @ d

    def _m_step(self, nk: torch.Tensor, s1: torch.Tensor, s2: torch.Tensor) -> None:
        reg, dead = self.config.reg_covar, nk < DEAD
        nk = nk + 10 * torch.finfo(F64).eps  # as scikit-learn: no division by zero, no log(0)
        means = torch.where(dead[:, None], self.means, s1 / nk[:, None])
        if self.config.covariance == "diag":
            var = (s2 / nk[:, None] - means.square()).clamp_min(0) + reg
            self.var = torch.where(dead[:, None], self.var, var)
        else:
            shift = means - self.means  # s2 was summed about the old means
            cov = s2 / nk[:, None, None] - shift[:, :, None] * shift[:, None, :]
            cov.diagonal(dim1=1, dim2=2).add_(reg)
            cov[dead] = torch.eye(self.dim, dtype=F64, device=cov.device)
            tril, info = torch.linalg.cholesky_ex(cov)
            if (info > 0).any():
                bad = (info > 0).nonzero()[0].item()
                raise ConfigError(f"reg_covar is too small: the covariance of component {bad} is not positive "
                                  f"definite; increase it (now {reg:g})", setting="reg_covar")
            self.scale_tril = torch.where(dead[:, None, None], self.scale_tril, tril)
        self.means = means
        self.log_weights = (nk / nk.sum()).log()

    # ---- initialisation ----------------------------------------------------------------------

    def _init(self, x: torch.Tensor, generator) -> None:
        """k-means++ seeds, a few Lloyd steps, then one M-step from the hard assignment."""
        centers = self._kmeans_pp(x, generator)
        labels = None
        for _ in range(KMEANS_ITERS):
            previous, (labels, centers) = labels, self._lloyd_step(x, centers)
            if previous is not None and torch.equal(previous, labels):
                break
        if self.config.covariance == "diag":
            self.var = torch.ones_like(self.var)
        else:
            self.scale_tril = torch.eye(self.dim, dtype=F64, device=x.device).repeat(len(centers), 1, 1)
        self.means = centers
        stats = self._new_stats()
        for i, xc in enumerate(self._blocks(x)):
            one_hot = nn.functional.one_hot(labels[i * CHUNK:(i + 1) * CHUNK], len(centers)).to(F64)
            self._accumulate(stats, xc, one_hot)
        self._m_step(*stats)

    def _kmeans_pp(self, x: torch.Tensor, generator) -> torch.Tensor:
        """M seeds, each drawn with probability ∝ its squared distance to the nearest seed so far."""
        n, dev = len(x), generator.device if generator is not None else x.device
        sq_norms = torch.cat([xc.square().sum(1) for xc in self._chunks(x)])

        def sq_dist(c):  # ||x - c||², expanded so each seed costs one pass over x
            return (sq_norms - 2 * (x @ c.to(x.dtype)).to(F64) + c.square().sum()).clamp_min(0)

        index = torch.randint(n, (1,), generator=generator, device=dev).item()
        centers = [x[index].to(F64)]
        d2 = sq_dist(centers[0])
        for _ in range(1, self.config.components):
            if d2.sum() > 0:
                index = torch.multinomial(d2.to(dev), 1, generator=generator).item()
            else:  # every point already coincides with a seed
                index = torch.randint(n, (1,), generator=generator, device=dev).item()
            centers.append(x[index].to(F64))
            d2 = torch.minimum(d2, sq_dist(centers[-1]))
        return torch.stack(centers)

    def _lloyd_step(self, x: torch.Tensor, centers: torch.Tensor):
        """Nearest-center labels (N,) and the new centers (an empty cluster keeps its center)."""
        sums, labels = torch.zeros_like(centers), []
        c2 = centers.square().sum(1)
        for xc in self._chunks(x):
            lab = (c2 - 2 * xc @ centers.T).argmin(1)
            sums += nn.functional.one_hot(lab, len(centers)).to(F64).T @ xc  # a matmul: index_add_ is serial on CPU
            labels.append(lab)
        labels = torch.cat(labels)
        counts = torch.bincount(labels, minlength=len(centers)).to(F64)[:, None]
        return labels, torch.where(counts > 0, sums / counts.clamp_min(1), centers)

    # ---- sampling and display ----------------------------------------------------------------

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n draws x = μ_m + L_m e, m ~ P(m), e ~ N(0, I): (n, C, H, W) float32, not clamped."""
        positive_int("n", n)
        dev = generator.device if generator is not None else self.means.device
        m = torch.multinomial(self.log_weights.exp().to(dev), n, replacement=True, generator=generator)
        e = torch.randn(n, self.dim, generator=generator, device=dev, dtype=F64)
        m, e = m.to(self.means.device), e.to(self.means.device)
        if self.config.covariance == "diag":
            x = self.means[m] + self.var[m].sqrt() * e
        else:
            x = self.means[m].clone()
            for k in m.unique().tolist():
                rows = m == k
                x[rows] += e[rows] @ self.scale_tril[k].T
        return x.float().reshape(n, *self.config.image_shape)

    def means_as_images(self) -> torch.Tensor:
        """The component means μ_m as images: (M, C, H, W) float32."""
        return self.means.float().reshape(-1, *self.config.image_shape)

    # ---- helpers -----------------------------------------------------------------------------

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
            raise TypeError(f"x must be a floating-point tensor; got {got}")
        shape = self.config.image_shape
        if (x.ndim == 4 and tuple(x.shape[1:]) == shape) or (x.ndim == 2 and x.shape[1] == self.dim):
            return x.reshape(len(x), self.dim)
        raise ValueError(f"x must be (N, {self.dim}) or (N, {', '.join(map(str, shape))}); got {tuple(x.shape)}")

    def _blocks(self, x: torch.Tensor):
        """What the E- and M-steps read: float64 row blocks, [x, x²] (B, 2D) for diag (whose
        statistics are linear in both), x (B, D) for full."""
        for xc in self._chunks(x):
            yield torch.cat([xc, xc.square()], 1) if self.config.covariance == "diag" else xc

    def _chunks(self, x: torch.Tensor):
        """(N, D) -> float64 blocks of at most CHUNK rows on the model's device."""
        for i in range(0, len(x), CHUNK):
            yield x[i:i + CHUNK].to(self.means.device, F64)
