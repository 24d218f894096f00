"""Objectives: functions of a model and a batch returning per-example values in nats."""

from .elbo import elbo_terms, kl_standard_normal, negative_elbo, reparameterize
from .fixed_std import negative_iwae_fixed_std
from .iwae import iwae_bound, log_weights, negative_iwae

__all__ = ["elbo_terms", "iwae_bound", "kl_standard_normal", "log_weights", "negative_elbo",
           "negative_iwae", "negative_iwae_fixed_std", "reparameterize"]
