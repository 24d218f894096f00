"""Which model class a ``ModelConfig`` describes, and a freshly built, seeded model of it."""

from __future__ import annotations

import torch

from .config import ModelConfig
from .vae import VAE


def model_class(config: ModelConfig) -> type[VAE]:
    """``VAE`` for every config: the AE, the VAE, the linear VAE, two stochastic layers, any prior or
    posterior (its parts, ``vae.build_prior`` and ``vae.build_posterior``, differ; the class does not)."""
    return VAE


def build_model(config: ModelConfig, seed: int = 0) -> VAE:
    """A freshly initialised model; the same seed gives the same weights on every machine."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return model_class(config)(config)
