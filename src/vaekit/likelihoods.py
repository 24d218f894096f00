"""The families of p(x|z) a model can have, and so the forms the data can take for it.

    bernoulli   binarised pixels in {0, 1}
    gaussian    dequantised pixels (pixel + u)/256, u ~ U[0, 1), or continuous values

One fact shared by the data (``data.Dataset.model_input`` prepares the pixels for a family)
and the models (``models.ModelConfig.likelihood``), so it lives below both.  No torch here.
"""

LIKELIHOODS = ("bernoulli", "gaussian")
