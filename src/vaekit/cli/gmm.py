"""``vaekit gmm``: fit the lecture's finite Gaussian mixture by EM into a run directory."""

from __future__ import annotations

from ..train.config import GMMFitConfig
from .flags import add_config_flags, config_values


def add_parser(sub, parents):
    p = sub.add_parser("gmm", parents=parents, help="fit a Gaussian mixture by EM (the VAE's finite cousin)",
                       description="Fit P(x) = sum_m P(m) N(x; mu_m, Sigma_m) by EM on dequantised images; writes "
                                   "config.json, metrics.jsonl, a checkpoint, means.png and samples.png into the "
                                   "run directory.")
    add_config_flags(p, GMMFitConfig)
    p.add_argument("--out", metavar="RUN_DIR",
                   help="run directory (default: a new runs/<data>-gmm-N, printed at the start)")
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    import math

    from ..data.transforms import bits_per_dim
    from ..rundir import command_line
    from ..train.gmm_run import fit_gmm, prepare_gmm
    from ..viz import gmm_figures
    from .common import Interrupted
    from .train import new_run

    cfg = GMMFitConfig(**config_values(args, GMMFitConfig))
    prepared = prepare_gmm(cfg)   # every data file read, sizes checked: nothing is written before this
    run = new_run(args.out, cfg.data, "gmm")
    print(f"run directory: {run.path}", flush=True)

    def on_iteration(r):
        print(f"iteration {r['iteration']:>3}/{cfg.max_iter}  train log p(x) {r['train_log_px']:.3f} nats  "
              f"{r['seconds']:.2f} s", flush=True)

    try:
        model, history = fit_gmm(cfg, run, on_iteration=on_iteration, command=command_line(args.argv),
                                 prepared=prepared)
        figures = gmm_figures(model, seed=cfg.seed)
        for name, png in figures.items():
            run.write_figure(name, png)
    except KeyboardInterrupt:
        raise Interrupted(f"EM did not finish; {run.path} holds no fitted mixture (run vaekit gmm again "
                          "with the same --out to replace it)") from None
    finally:
        run.close()
    dims = math.prod(model.config.image_shape)
    state = "converged" if model.converged_ else "stopped at --max-iter"
    print(f"train log p(x) {model.log_likelihood_:.2f} nats/example = "
          f"{bits_per_dim(model.log_likelihood_, dims, 'gaussian', prepared.splits[0].continuous):.4f} bits/dim "
          f"({state} after {model.n_iter_} iterations, {sum(r['seconds'] for r in history):.1f} s)")
    print(f"wrote {run.path}/: config.json metrics.jsonl checkpoint {' '.join(figures)}")
    return 0
