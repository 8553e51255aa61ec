"""Small notebooks the browser tests write into the served temp folder: the bare PNG slider (the
harness baseline) and stand-ins for the course's explorers."""

from __future__ import annotations

from pathlib import Path

FIXTURE_CODE = '''\
import io

import ipywidgets as W
import numpy as np
from PIL import Image as PILImage


class SliderImage:
    """The bare fast path: float sliders -> an 8x8 pattern -> PNG bytes in an ipywidgets.Image."""

    def __init__(self, k=2):
        self.sliders = [W.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1, description=f"z{i}")
                        for i in range(k)]
        self.image = W.Image(format="png", width=224, height=224)
        self.image.add_class("vae-baseline-img")
        for s in self.sliders:
            s.add_class("vae-baseline-slider")
            s.observe(self._update, "value")
        self.widget = W.VBox([*self.sliders, self.image])
        self.widget.add_class("vae-baseline")
        self._update()

    @property
    def z(self):
        return np.array([round(s.value, 6) for s in self.sliders])

    def render(self, z):
        u = np.linspace(-1.0, 1.0, 8)
        grid = 0.5 + 0.5 * np.tanh(z[0] * u[:, None] + z[1] * u[None, :] ** 2)
        pix = np.kron((255 * grid).astype(np.uint8), np.ones((28, 28), dtype=np.uint8))
        buf = io.BytesIO()
        PILImage.fromarray(pix).save(buf, format="png", compress_level=1)
        return buf.getvalue()

    def _update(self, change=None):
        png = self.render(self.z)
        if png != self.image.value:
            self.image.value = png


explorer = SliderImage()
'''


# Every explorer once, on tiny models (an untrained VAE scaled up so a small move in z changes the pixels).
EXPLORERS_FIXTURE_CELLS = [
    "import torch\n\n"
    "from vae_teach import data, models, toy, train, widgets\n\n"
    "x, y = data.load_digits('train')\n"
    "model = models.VAE(64, 2, hidden=(64,), seed=0)\n"
    "with torch.no_grad():\n"
    "    for p in model.decoder.parameters():\n"
    "        p.mul_(4.0)\n"
    "explorer = widgets.LatentExplorer(model, data=x[:300], labels=y[:300])\n"
    "posterior_explorer = widgets.PosteriorExplorer(toy.Nonlinear1D(), x=2.0)\n"
    "W = torch.tensor([[1.0, 0.5], [0.3, 1.0], [0.8, -0.6]], dtype=torch.float64)\n"
    "linear_explorer = widgets.PosteriorExplorer(toy.LinearGaussian(W, torch.zeros(3, dtype=torch.float64), 0.7),\n"
    "                                            x=[1.0, 0.5, -0.3])\n"
    "gradient_explorer = widgets.GradientExplorer(f=torch.sin, f_name='sin z', n=2000, mu=1.0, sigma=0.5)\n"
    "runs = [train.BetaRun(b, models.VAE(64, 2, hidden=(16,), seed=i), None, 10.0 / (1 + b), 90.0 + b)\n"
    "        for i, b in enumerate([0.5, 1.0, 4.0])]\n"
    "tradeoff = widgets.TradeoffExplorer(runs, x=x[:100], labels=y[:100])",
    "explorer.widget",
    "posterior_explorer.widget",
    "linear_explorer",
    "gradient_explorer.widget",
    "tradeoff.widget",
]


def write_notebook(path: Path, cells: list[str], title: str) -> Path:
    """A small notebook (markdown title + code cells) with the python3 kernelspec."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}"), *map(nbformat.v4.new_code_cell, cells)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def write_fixture_notebook(path: Path) -> Path:
    """A two-cell notebook with the bare PNG-in-Image slider, shaped like the course's explorers."""
    return write_notebook(path, [FIXTURE_CODE, "explorer.widget"], "Harness fixture: one slider, one image")
