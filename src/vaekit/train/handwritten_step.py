"""The default model's training step with its gradients written out by hand.

For one model only: ``models.vae.VAE`` of kind "vae" with a Bernoulli p(x|z), whose
encoder and decoder are the plain MLPs of ``models.networks`` (Linear, ReLU, ..., Linear),
trained on the ELBO without free bits.  Autograd records about a hundred small operations
per step for it; the same gradients written out take about forty.  On a CPU that is
10-15 % of an epoch; on a GPU, where each operation is a kernel launch and small batches
are launch-bound, it is most of the step.  ``tests/train/test_handwritten_step.py``
checks the loss and every gradient against autograd on ``objectives.elbo.negative_elbo``.

The step does not run the modules, it reads their weights: it is right only for exactly
that structure.  ``handwritten_step_reason`` checks the actual module tree (exact types,
biases present, nothing else in it), not the config, and says why the step does not
apply; the training loop then uses autograd (setting ``fast_path``: auto, on, off).
Module hooks are not run by the step; a model trained with hooks wants ``fast_path off``.

Forward (per example; σ = log-variance, as in the lecture):
    [m, σ] = enc(x);  c = m + exp(σ/2)·e;  l = dec(c)
    loss   = Σ_d [softplus(l_d) - x_d·l_d] + β·½ Σ_u (exp(σ_u) - (1 + σ_u) + m_u²)
Backward of mean(loss) over the batch of B examples:
    ∂/∂l = (sigmoid(l) - x)/B,   ∂/∂m = ∂/∂c + β·m/B,   ∂/∂σ = ∂/∂c·e·½exp(σ/2) + β·½(exp(σ) - 1)/B
and through each linear layer y = a Wᵀ + b:  ∂W = gᵀa, ∂b = Σ g, ∂a = g W (times [a > 0] after a ReLU).
The 1/B of ∂/∂l is applied by the matrix products of the last layer (their scale factor),
not by a pass of its own over the B×D logits.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..models.networks import MLPDecoder, MLPEncoder
from ..models.posteriors import DiagonalGaussian
from ..models.priors import StandardNormal
from ..models.vae import VAE


def handwritten_step_reason(model: nn.Module, objective: str, free_bits: float) -> str | None:
    """Why ``HandWrittenMLPElboStep`` would not compute this training step's gradients; None if it would."""
    if objective != "elbo":
        return f"the objective is {objective!r}, not 'elbo'"
    if free_bits != 0:
        return f"free_bits is {free_bits}, not 0"
    if type(model) is not VAE:
        return f"the model is a {type(model).__name__}, not vaekit's VAE"
    if model.config.kind != "vae":
        return f"the model is of kind {model.config.kind!r}, not 'vae'"
    if model.conditional:
        return "the model is conditional (condition 'label'): its networks also read the class y"
    if type(model.prior) is not StandardNormal:
        return f"the prior is a {type(model.prior).__name__}, not a StandardNormal (the step writes N(0, I)'s KL)"
    if type(model.posterior) is not DiagonalGaussian:
        return f"the posterior is a {type(model.posterior).__name__}, not a DiagonalGaussian"
    if model.config.likelihood != "bernoulli":
        return f"the likelihood is {model.config.likelihood!r}, not 'bernoulli'"
    for name, want in (("encoder", MLPEncoder), ("decoder", MLPDecoder)):
        part = getattr(model, name)
        if type(part) is not want:
            return f"the {name} is a {type(part).__name__}, not an {want.__name__}"
        reason = _plain_mlp_reason(part.net, f"{name}.net")
        if reason is not None:
            return reason
    enc, dec = model.encoder.net, model.decoder.net
    expected = {model, model.encoder, enc, *enc, model.decoder, dec, *dec, model.prior, model.posterior}
    extra = [name for name, m in model.named_modules() if m not in expected]
    if extra:
        return f"the model holds modules besides its two MLPs: {', '.join(extra)}"
    linears = [lin for lin in (*enc, *dec) if type(lin) is nn.Linear]
    linear_params = {p for lin in linears for p in (lin.weight, lin.bias)}
    if len(linear_params) != 2 * len(linears):   # the step would write a shared tensor's .grad twice, not add
        return "some layers share a weight or bias (tied parameters)"
    extra = [name for name, p in model.named_parameters() if p not in linear_params]
    if extra:
        return f"the model holds parameters besides its layers' weights and biases: {', '.join(extra)}"
    frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
    if frozen:   # the step would write their .grad, and the optimizer would move them
        return f"some parameters do not require gradients: {', '.join(frozen)}"
    latent, pixels = model.latent_dim, math.prod(model.config.image_shape)
    if (enc[0].in_features, enc[-1].out_features, dec[0].in_features, dec[-1].out_features) != (
            pixels, 2 * latent, latent, pixels) or model.decoder.out_shape != model.config.image_shape:
        return f"the MLPs' shapes are not {pixels} -> ... -> 2·{latent} and {latent} -> ... -> {pixels}"
    return None


def _plain_mlp_reason(net: nn.Module, where: str) -> str | None:
    """Why ``net`` is not exactly nn.Sequential(Linear, ReLU, Linear, ..., ReLU, Linear) with biases; or None."""
    if type(net) is not nn.Sequential:
        return f"{where} is a {type(net).__name__}, not an nn.Sequential"
    layers = list(net)
    for i, m in enumerate(layers):
        want = nn.Linear if i % 2 == 0 else nn.ReLU
        if type(m) is not want:
            return (f"{where}.{i} is {type(m).__name__} where the step needs {want.__name__} "
                    "(layers exactly Linear, ReLU, ..., Linear)")
        if want is nn.Linear and not (isinstance(m.weight, nn.Parameter) and isinstance(m.bias, nn.Parameter)):
            return f"{where}.{i} lacks a weight or bias parameter"
    if not layers or len(layers) % 2 == 0:
        return f"{where} does not end with a Linear layer"
    return None


class _Layer(NamedTuple):
    """One nn.Linear's tensors, looked up once: y = a·weight_t + bias."""
    weight: torch.Tensor       # (out, in)
    weight_t: torch.Tensor     # (in, out), a view of weight
    bias: torch.Tensor         # (out,)
    weight_grad: torch.Tensor  # (out, in), the parameter's .grad
    bias_grad: torch.Tensor    # (out,)


def _layers(seq: nn.Sequential) -> list[_Layer]:
    out = []
    for lin in seq[0::2]:   # the Linear layers; ReLUs between them
        w, b = lin.weight, lin.bias
        for p in (w, b):   # written in place every step: no allocation, no zero_grad
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        out.append(_Layer(w.detach(), w.detach().t(), b.detach(), w.grad, b.grad))
    return out


class HandWrittenMLPElboStep:
    """The default model's ELBO gradients, written out by hand: ``total = step(x, beta, generator)``.

    Set up once (the training loop makes one per epoch) so that a step spends its time in
    the arithmetic, not in looking up modules and buffers: the layers' tensors are read
    once, and it keeps its own output buffers, one set per batch size.  The parameters must
    stay the same tensors while it is used (in-place updates, as every torch optimizer
    makes, are fine).  Raises ValueError for a model that ``handwritten_step_reason`` rejects.
    """

    def __init__(self, model: nn.Module):
        reason = handwritten_step_reason(model, "elbo", 0.0)
        if reason is not None:
            raise ValueError(f"the hand-written step does not apply to this model: {reason}")
        self.enc, self.dec = _layers(model.encoder.net), _layers(model.decoder.net)
        self.latent = model.latent_dim
        self._params_and_grads = [(p, p.grad) for p in model.parameters()]
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
                # ∂/∂(each layer's input) and the ReLU's [a > 0] there; none for the data
                "enc_grad": [None] + [empty(b, l.weight.shape[1]) for l in self.enc[1:]],
                "dec_grad": [empty(b, l.weight.shape[1]) for l in self.dec],
                "enc_mask": [None] + [empty(b, l.weight.shape[1]) for l in self.enc[1:]],
                "dec_mask": [None] + [empty(b, l.weight.shape[1]) for l in self.dec[1:]],
                "softplus": empty(b, self.dec[-1].weight.shape[0]),
                "dlogits": empty(b, self.dec[-1].weight.shape[0]),
                "dcode": empty(b, 2 * self.latent),
                "inv_b": torch.full((b,), 1.0 / b, device=x.device, dtype=x.dtype),
            }
        return bufs

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, beta: float, generator: torch.Generator | None = None,
                 rows: tuple[int, slice] | None = None) -> torch.Tensor:
        """Set every parameter's .grad to ∂ mean(loss)/∂θ for the batch x (B, C, H, W) in {0, 1}.

        Returns Σ loss over the batch (a 0-d tensor, nats; not synchronised), the negative ELBO
        with KL weight β.  The noise e is drawn exactly as ``reparameterize`` draws it; with
        ``rows`` = (n, part), x is the rows ``part`` of a global batch of n (one rank's share):
        e is drawn for all n and the part takes its rows, as ``TrainingBatches`` does.
        """
        for p, grad in self._params_and_grads:   # rebind if someone set .grad to None meanwhile
            if p.grad is not grad:
                p.grad = grad
        bufs = self._batch_buffers(x)
        b, latent = x.shape[0], self.latent
        xf = x.view(b, -1)
        enc_acts = _forward(self.enc, xf, bufs["enc"])
        out = enc_acts[-1]
        m, log_var = out[:, :latent], out[:, latent:]
        std = torch.exp(log_var * 0.5)
        if rows is None:
            e = torch.randn((b, latent), generator=generator, device=x.device, dtype=x.dtype)
        else:
            e = torch.randn((rows[0], latent), generator=generator, device=x.device, dtype=x.dtype)[rows[1]]
        z = torch.addcmul(m, std, e)                                   # c = m + exp(σ/2)·e
        dec_acts = _forward(self.dec, z, bufs["dec"])
        logits = dec_acts[-1]
        var = std * std
        recon = F.softplus(logits, out=bufs["softplus"]).sum() - torch.dot(xf.view(-1), logits.view(-1))
        kl_2 = torch.addcmul(var - log_var, m, m).sum()                # Σ (exp(σ) - σ + m²) = 2·KL + B·latent
        total = torch.add(recon, kl_2, alpha=0.5 * beta).sub_(0.5 * beta * b * latent)

        g = torch.sigmoid(logits, out=bufs["dlogits"]).sub_(xf)       # B·∂/∂l: the 1/B goes in below
        g_z = _backward(self.dec, dec_acts, g, bufs["dec_grad"], bufs["dec_mask"], keep_input_grad=True,
                        inv_b=bufs["inv_b"])
        g_enc = bufs["dcode"]                                          # [∂/∂m, ∂/∂σ]
        torch.add(g_z, m, alpha=beta / b, out=g_enc[:, :latent])
        torch.add(g_z * e * (0.5 * std), var - 1, alpha=0.5 * beta / b, out=g_enc[:, latent:])
        _backward(self.enc, enc_acts, g_enc, bufs["enc_grad"], bufs["enc_mask"], keep_input_grad=False)
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
              masks: list[torch.Tensor | None], keep_input_grad: bool,
              inv_b: torch.Tensor | None = None) -> torch.Tensor | None:
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
            if i > 0:   # ReLU: g·[a > 0], the comparison written as 0./1. floats (a bool mask is ~5x slower)
                g.mul_(torch.gt(inp, 0, out=masks[i]))
    return g if keep_input_grad else None
