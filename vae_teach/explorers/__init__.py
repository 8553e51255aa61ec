"""The course's explorers: anywidgets whose browser side does the per-tick work from data Python ships once.

One module per explorer, each beside its ES module (``latent.py`` + ``latent.js``); ``kit.js`` / ``kit.css`` hold
what they share. Each explorer also displays as a self-contained static ``text/html`` copy (see ``_base``).
"""

from vae_teach.explorers._base import STEP, snap
from vae_teach.explorers.gradient import GradientExplorer
from vae_teach.explorers.latent import LatentExplorer, decoded_pixels, render_decoded
from vae_teach.explorers.posterior import PosteriorExplorer
from vae_teach.explorers.tradeoff import TradeoffExplorer

__all__ = ["LatentExplorer", "PosteriorExplorer", "GradientExplorer", "TradeoffExplorer", "decoded_pixels",
           "render_decoded", "snap", "STEP"]
