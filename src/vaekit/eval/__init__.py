"""Evaluation: batched estimates over whole splits, per example, in nats."""

from .elbo import elbo_means, elbo_sums
from .likelihood import log_px
from .report import active_units, evaluate

__all__ = ["active_units", "elbo_means", "elbo_sums", "evaluate", "log_px"]
