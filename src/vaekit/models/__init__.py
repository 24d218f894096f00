"""Models: plain ``nn.Module``s built from a frozen config.

``VAE`` (``ModelConfig``: a VAE or the plain autoencoder) is built from parts: encoder and
decoder networks (``networks``), a posterior family (``posteriors``: diagonal Gaussian, IAF,
the two-layer q(z1|x) q(z2|z1)) and a prior (``priors``: N(0, I), VampPrior, a learned
mixture, the two-layer p(z2) p(z1|z2)).  ``VAE`` and ``gmm.GaussianMixture``
(``gmm.GMMConfig``) share the ``protocol.DensityModel`` interface: ``log_prob``, ``sample``,
``likelihood`` and the class flag ``log_prob_is_exact``.

The configs import no torch; the models and protocols are imported on first use (PEP 562),
so reading a config (to build the CLI's flags, say) stays light.
"""

from importlib import import_module as _import_module

from .config import ARCHS, LIKELIHOODS, MODEL_KINDS, POSTERIORS, PRIORS, ModelConfig

_WHERE = {"VAE": "vae", "build_model": "build", "model_class": "build", "DensityModel": "protocol", "LatentVariableModel": "protocol"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(_import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


__all__ = ["ARCHS", "LIKELIHOODS", "MODEL_KINDS", "POSTERIORS", "PRIORS", "VAE", "DensityModel",
           "LatentVariableModel", "ModelConfig", "build_model", "model_class"]
