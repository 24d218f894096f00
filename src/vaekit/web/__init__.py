"""``vaekit serve``: a trained model's code space in the browser.

    explorer.py   the models and data behind the page: encode, decode, score, neighbours (no HTTP)
    inputs.py     request values checked into tensors, with one-line errors (``BadInput``)
    images.py     images to PNG bytes and data URLs; uploads (PNG/JPEG) to the model's size and mode
    app.py        the FastAPI app: routes, error responses, the static page
    guard.py      around the app: the Host and Origin checks, and the time limit on a request's body
    static/       the page: plain HTML, CSS and JavaScript modules (js/main.js, the API client js/api.js,
                  one module per section in js/views/), no build step, nothing from the network
"""
