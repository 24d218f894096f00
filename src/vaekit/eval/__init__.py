"""Evaluation: batched estimates over whole splits, per example, in nats."""

from .elbo import elbo_means, elbo_sums
from .likelihood import log_px

__all__ = ["elbo_means", "elbo_sums", "log_px"]
