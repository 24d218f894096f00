"""``vaekit eval RUN_DIR``: ELBO, importance-sampled log p(x), gap, bits/dim, active units."""

from __future__ import annotations

from ..eval.config import EvalConfig
from .flags import add_config_flags, config_values


def add_parser(sub, parents):
    p = sub.add_parser("eval", parents=parents, help="honest likelihoods of a trained VAE or GMM",
                       description="Evaluate a run on a split: ELBO and its parts, importance-sampled "
                                   "log p(x) with its standard error, the gap, bits/dim, active units.")
    p.add_argument("run_dir", help="a run directory written by vaekit train or vaekit gmm")
    add_config_flags(p, EvalConfig)
    p.add_argument("--json", action="store_true", help="print one strict JSON object (null for non-finite values)")
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    import sys

    from .. import distributed
    from ..device import resolve_device
    from ..rundir.evaluate import evaluate_run
    from ..jsonio import dumps

    cfg = EvalConfig(**config_values(args, EvalConfig))
    # Under torchrun the ranks share the batches (eval.shards) and rank 0 prints the reduced report.
    with distributed.session(resolve_device(cfg.device)):
        main = distributed.is_main()
        report = evaluate_run(args.run_dir, **cfg.to_dict(),
                              on_start=None if args.json or not main else
                              lambda text: print(text, file=sys.stderr, flush=True))
        if distributed.world_size() > 1:
            report["world_size"] = distributed.world_size()
    if main:
        print(dumps(report) if args.json else format_report(report))
    return 0


def _num(v, fmt: str) -> str:
    return "n/a" if v is None or v != v else format(v, fmt)


def format_report(r: dict) -> str:
    lines = [f"{r['model']} on {r['data']} {r['split']} ({r['n']} examples), per example:"]
    if r.get("conditioned_on") == "label":   # a conditional model: every number is given each image's label y
        lines[0] += " (conditional: log p(x|y), y each image's label)"
    if r["elbo"] is not None:
        lines += [f"  ELBO  L_b                 {r['elbo']:10.2f} nats",
                  f"    reconstruction E_q[log p(x|z)] {r['recon']:10.2f} nats",
                  f"    KL(q(z|x) || p(z))      {r['kl']:10.2f} nats"]
    how = f"importance-sampled, k = {r['k']}" if r["k"] else "exact"
    lines.append(f"  log p(x) ({how}) {_num(r['log_px'], '10.2f')} ± {_num(r['log_px_se'], '.2f')} nats "
                 "(standard error)")
    if r["gap"] is not None:
        lines.append(f"  gap log p(x) - ELBO      {_num(r['gap'], '10.2f')} nats  (≈ KL(q(z|x) || p(z|x)))")
    if "log_px_exact" in r:
        lines.append(f"  log p(x) exact           {_num(r['log_px_exact'], '10.2f')} nats  (linear model: closed form)")
    lines.append(f"  bits/dim                 {_num(r['bits_per_dim'], '10.4f')}  ({r['bits_per_dim_convention']})")
    if r["active_units"] is not None:
        of = f" of {r['latent_dim']}"
        lines.append(f"  active units             {r['active_units']:>7}{of}")
        if r["kl_per_dim"]:   # none for the VampPrior, whose KL is estimated as a whole
            lines.append(f"  KL per latent dimension  {' '.join(f'{v:.2f}' for v in r['kl_per_dim'])}")
    lines.append(f"  {r['seconds']:.1f} s")
    return "\n".join(lines)
