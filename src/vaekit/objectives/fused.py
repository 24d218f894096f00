"""The default training step, written out by hand: MLP encoder and decoder, Bernoulli p(x|z), ELBO.

Autograd records about a hundred small operations per step for this model; the same
gradients written out take about forty.  On a CPU that is 10-15 % of an epoch; on a GPU,
where each operation is a kernel launch and small batches are launch-bound, it is most of
the step.  ``tests/objectives/test_fused.py`` checks loss and every gradient against
autograd on ``objectives.elbo.negative_elbo``.

Forward (per example; σ = log-variance, as in the lecture):
    [m, σ] = enc(x);  c = m + exp(σ/2)·e;  l = dec(c)
    loss   = Σ_d [softplus(l_d) - x_d·l_d] + β·½ Σ_u (exp(σ_u) - (1 + σ_u) + m_u²)
Backward of mean(loss) over the batch of B examples:
    ∂/∂l = (sigmoid(l) - x)/B,   ∂/∂m = ∂/∂c + β·m/B,   ∂/∂σ = ∂/∂c·e·½exp(σ/2) + β·½(exp(σ) - 1)/B
and through each linear layer y = a Wᵀ + b:  ∂W = gᵀa, ∂b = Σ g, ∂a = g W (masked by a > 0 after a ReLU).
The 1/B of ∂/∂l is applied by the matrix products of the last layer (their scale factor),
not by a pass of its own over the B×D logits.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


def supports(model, objective: str, free_bits: float) -> bool:
    """Whether ``ElboStep`` computes this model's training gradients."""
    cfg = getattr(model, "config", None)
    return (cfg is not None and cfg.kind == "vae" and cfg.arch == "mlp" and cfg.likelihood == "bernoulli"
            and objective == "elbo" and free_bits == 0)


class _Layer(NamedTuple):
    """One nn.Linear's tensors, looked up once: y = a·weight_t + bias."""
    weight: torch.Tensor       # (out, in)
    weight_t: torch.Tensor     # (in, out), a view of weight
    bias: torch.Tensor         # (out,)
    weight_grad: torch.Tensor  # (out, in), the parameter's .grad
    bias_grad: torch.Tensor    # (out,)


def _layers(seq: nn.Sequential) -> list[_Layer]:
    out = []
    for lin in seq:
        if isinstance(lin, nn.Linear):
            w, b = lin.weight, lin.bias
            for p in (w, b):   # written in place every step: no allocation, no zero_grad
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
            out.append(_Layer(w.detach(), w.detach().t(), b.detach(), w.grad, b.grad))
    return out


class ElboStep:
    """The hand-written ELBO gradient of one model: ``total = step(x, beta, generator)``.

    Set up once (the training loop makes one per epoch) so that a step spends its time in
    the arithmetic, not in looking up modules and buffers: the layers' tensors are read
    once, the outputs go into buffers kept per batch size.  The parameters must stay the
    same tensors while it is used (in-place updates, as every torch optimizer makes, are fine).
    """

    def __init__(self, model):
        self.enc, self.dec = _layers(model.encoder.net), _layers(model.decoder.net)
        self.latent = model.latent_dim
        self._buffers: dict[int, dict] = {}

    def _batch_buffers(self, x: torch.Tensor) -> dict:
        b = x.shape[0]
        bufs = self._buffers.get(b)
        if bufs is None:
            def empty(*shape):
                return torch.empty(shape, device=x.device, dtype=x.dtype)
            bufs = self._buffers[b] = {
                "enc": [empty(b, l.weight.shape[0]) for l in self.enc],         # each layer's output
                "dec": [empty(b, l.weight.shape[0]) for l in self.dec],
                # ∂/∂(each layer's input); none for the data
                "enc_grad": [None] + [empty(b, l.weight.shape[1]) for l in self.enc[1:]],
                "dec_grad": [empty(b, l.weight.shape[1]) for l in self.dec],
                "softplus": empty(b, self.dec[-1].weight.shape[0]),
                "dlogits": empty(b, self.dec[-1].weight.shape[0]),
                "dcode": empty(b, 2 * self.latent),
                "inv_b": torch.full((b,), 1.0 / b, device=x.device, dtype=x.dtype),
            }
        return bufs

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, beta: float, generator: torch.Generator | None = None) -> torch.Tensor:
        """Set every parameter's .grad to ∂ mean(loss)/∂θ for the batch x (B, C, H, W) in {0, 1}.

        Returns Σ loss over the batch (a 0-d tensor, nats; not synchronised), the negative ELBO
        with KL weight β.  The noise e is drawn exactly as ``reparameterize`` draws it.
        """
        bufs = self._batch_buffers(x)
        b, latent = x.shape[0], self.latent
        xf = x.view(b, -1)
        enc_acts = _forward(self.enc, xf, bufs["enc"])
        out = enc_acts[-1]
        m, log_var = out[:, :latent], out[:, latent:]
        std = torch.exp(log_var * 0.5)
        e = torch.randn((b, latent), generator=generator, device=x.device, dtype=x.dtype)
        z = torch.addcmul(m, std, e)                                   # c = m + exp(σ/2)·e
        dec_acts = _forward(self.dec, z, bufs["dec"])
        logits = dec_acts[-1]
        var = std * std
        recon = F.softplus(logits, out=bufs["softplus"]).sum() - torch.dot(xf.view(-1), logits.view(-1))
        kl_2 = torch.addcmul(var - log_var, m, m).sum()                # Σ (exp(σ) - σ + m²) = 2·KL + B·latent
        total = torch.add(recon, kl_2, alpha=0.5 * beta).sub_(0.5 * beta * b * latent)

        g = torch.sigmoid(logits, out=bufs["dlogits"]).sub_(xf)       # B·∂/∂l: the 1/B goes in below
        g_z = _backward(self.dec, dec_acts, g, bufs["dec_grad"], keep_input_grad=True, inv_b=bufs["inv_b"])
        g_enc = bufs["dcode"]                                          # [∂/∂m, ∂/∂σ]
        torch.add(g_z, m, alpha=beta / b, out=g_enc[:, :latent])
        torch.add(g_z * e * (0.5 * std), var - 1, alpha=0.5 * beta / b, out=g_enc[:, latent:])
        _backward(self.enc, enc_acts, g_enc, bufs["enc_grad"], keep_input_grad=False)
        return total


def _forward(layers: list[_Layer], a: torch.Tensor, outs: list[torch.Tensor]) -> list[torch.Tensor]:
    """Inputs of every layer, then the output: [a_0, a_1, ..., out]; ReLU between layers."""
    acts = [a]
    last = len(layers) - 1
    for i, layer in enumerate(layers):
        a = torch.addmm(layer.bias, a, layer.weight_t, out=outs[i])
        if i < last:
            a.relu_()
        acts.append(a)
    return acts


def _backward(layers: list[_Layer], acts: list[torch.Tensor], g: torch.Tensor, grads: list[torch.Tensor | None],
              keep_input_grad: bool, inv_b: torch.Tensor | None = None) -> torch.Tensor | None:
    """Write the layers' .grad from g = ∂loss/∂(last output); return ∂loss/∂(first input) if asked.

    inv_b: None, or a (B,) vector of 1/B when g is B·∂loss/∂(last output): the last layer's
    products then apply the 1/B (matrix products through their scale factor, the bias
    gradient as gᵀ·inv_b), and everything below it gets the true gradient.
    """
    for i in range(len(layers) - 1, -1, -1):
        layer, inp = layers[i], acts[i]
        s = 1.0 if inv_b is None or i < len(layers) - 1 else 1.0 / g.shape[0]
        if s == 1.0:
            torch.mm(g.t(), inp, out=layer.weight_grad)
            torch.sum(g, 0, out=layer.bias_grad)
        else:
            torch.addmm(layer.weight_grad, g.t(), inp, beta=0, alpha=s, out=layer.weight_grad)
            torch.mv(g.t(), inv_b, out=layer.bias_grad)
        if i > 0 or keep_input_grad:
            if s == 1.0:
                g = torch.mm(g, layer.weight, out=grads[i])
            else:
                g = torch.addmm(grads[i], g, layer.weight, beta=0, alpha=s, out=grads[i])
            if i > 0:   # ReLU: pass g where the layer's output was positive (one fused op)
                g = torch.ops.aten.threshold_backward.grad_input(g, inp, 0, grad_input=g)
    return g if keep_input_grad else None
