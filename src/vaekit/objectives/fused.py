"""The default training step, written out by hand: MLP encoder and decoder, Bernoulli p(x|z), ELBO.

Autograd records about a hundred small operations per step for this model; the same
gradients written out take about thirty.  On a CPU that is 10-15 % of an epoch; on a GPU,
where each operation is a kernel launch and small batches are launch-bound, it is most of
the step.  ``tests/objectives/test_fused.py`` checks loss and every gradient against
autograd on ``objectives.elbo.negative_elbo``.

Forward (per example; σ = log-variance, as in the lecture):
    [m, σ] = enc(x);  c = m + exp(σ/2)·e;  l = dec(c)
    loss   = Σ_d [softplus(l_d) - x_d·l_d] + β·½ Σ_u (exp(σ_u) - (1 + σ_u) + m_u²)
Backward of mean(loss) over the batch of B examples:
    ∂/∂l = (sigmoid(l) - x)/B,   ∂/∂m = ∂/∂c + β·m/B,   ∂/∂σ = ∂/∂c·e·½exp(σ/2) + β·½(exp(σ) - 1)/B
and through each linear layer y = a Wᵀ + b:  ∂W = gᵀa, ∂b = Σ g, ∂a = g W (masked by a > 0 after a ReLU).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..workspace import Workspace


def supports(model, objective: str, free_bits: float) -> bool:
    """Whether ``fused_elbo_step`` computes this model's training gradients."""
    cfg = getattr(model, "config", None)
    return (cfg is not None and cfg.kind == "vae" and cfg.arch == "mlp" and cfg.likelihood == "bernoulli"
            and objective == "elbo" and free_bits == 0)


def _linears(seq: nn.Sequential) -> list[nn.Linear]:
    return [m for m in seq if isinstance(m, nn.Linear)]


def _forward(layers: list[nn.Linear], a: torch.Tensor, ws: Workspace, tag: str) -> list[torch.Tensor]:
    """Inputs of every layer, then the output: [a_0, a_1, ..., out]; ReLU between layers."""
    acts = [a]
    for i, lin in enumerate(layers):
        a = torch.addmm(lin.bias, a, lin.weight.t(), out=ws((tag, i), (a.shape[0], lin.out_features), a))
        if i < len(layers) - 1:
            a = a.relu_()
        acts.append(a)
    return acts


def _backward(layers: list[nn.Linear], acts: list[torch.Tensor], g: torch.Tensor, need_input_grad: bool,
              ws: Workspace, tag: str):
    """Set the layers' .grad from g = ∂loss/∂(last output); return ∂loss/∂(first input) if asked."""
    for i in range(len(layers) - 1, -1, -1):
        lin, inp = layers[i], acts[i]
        if lin.weight.grad is None:
            lin.weight.grad, lin.bias.grad = g.t() @ inp, g.sum(0)
        else:   # write into the existing gradients: no large allocation per step
            torch.mm(g.t(), inp, out=lin.weight.grad)
            torch.sum(g, 0, out=lin.bias.grad)
        if i > 0 or need_input_grad:
            g = torch.mm(g, lin.weight, out=ws((tag, "grad", i), (g.shape[0], lin.in_features), g))
            if i > 0:   # ReLU: pass g where the layer's output was positive (one fused op)
                g = torch.ops.aten.threshold_backward.grad_input(g, inp, 0, grad_input=g)
    return g if need_input_grad else None


@torch.no_grad()
def fused_elbo_step(model, x: torch.Tensor, beta: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Set every parameter's .grad to ∂ mean(loss)/∂θ for the batch x (B, C, H, W) in {0, 1}.

    Returns Σ loss over the batch (a 0-d tensor, nats; not synchronised), the negative ELBO
    with KL weight β.  The noise e is drawn exactly as ``reparameterize`` draws it.
    """
    enc, dec = _linears(model.encoder.net), _linears(model.decoder.net)
    ws = model.__dict__.setdefault("_fused_workspace", Workspace())   # not a parameter or buffer
    b = x.shape[0]
    xf = x.reshape(b, -1)
    enc_acts = _forward(enc, xf, ws, "enc")
    m, log_var = enc_acts[-1].chunk(2, dim=1)
    std = torch.exp(0.5 * log_var)
    e = torch.randn(m.shape, generator=generator, device=m.device, dtype=m.dtype)
    z = torch.addcmul(m, std, e)                                   # c = m + exp(σ/2)·e
    dec_acts = _forward(dec, z, ws, "dec")
    logits = dec_acts[-1]
    var = std * std
    recon = F.softplus(logits).sum() - torch.dot(xf.reshape(-1), logits.reshape(-1))   # -Σ log p(x|c)
    kl = 0.5 * (var - 1 - log_var + m * m).sum()
    g = torch.sigmoid(logits, out=ws("sigmoid", logits.shape, logits)).sub_(xf).div_(b)
    g_z = _backward(dec, dec_acts, g, True, ws, "dec")
    g_enc = ws("grad_m_log_var", enc_acts[-1].shape, m)                   # [∂/∂m, ∂/∂σ]
    g_m, g_log_var = g_enc.chunk(2, dim=1)
    torch.add(g_z, m, alpha=beta / b, out=g_m)
    torch.add(g_z * e * (0.5 * std), var - 1, alpha=0.5 * beta / b, out=g_log_var)
    _backward(enc, enc_acts, g_enc, False, ws, "enc")
    return recon + beta * kl
