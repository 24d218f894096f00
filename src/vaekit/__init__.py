"""vaekit: variational autoencoders as the lecture teaches them.

    >>> import vaekit
    >>> model = vaekit.load("runs/digits")          # trained model, eval mode, CPU
    >>> m, log_var = model.encode(x)                # x: (N, C, H, W) in [0, 1]
    >>> dist = model.decode(m)                      # p(x|z): batch (N,), event (C, H, W)
    >>> dist.log_prob(x)                            # log p(x|z) per example, nats
"""

__version__ = "0.1.0"


def load(run_dir, device="cpu"):
    """Load the trained model of a run directory, in eval mode, on ``device`` (default CPU)."""
    from .checkpoint import load_model

    return load_model(run_dir, device=device)


__all__ = ["__version__", "load"]
