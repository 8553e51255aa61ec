"""Compatibility imports: the explorers now live in ``vae_teach.explorers`` (one module + ES module each)."""

from vae_teach.explorers import (
    STEP,
    GradientExplorer,
    LatentExplorer,
    PosteriorExplorer,
    TradeoffExplorer,
    decoded_pixels,
    render_decoded,
    snap,
)
from vae_teach.gradients import true_gradient
from vae_teach.toy import exact_terms_1d, exact_terms_2d

__all__ = ["LatentExplorer", "PosteriorExplorer", "TradeoffExplorer", "GradientExplorer", "render_decoded",
           "decoded_pixels", "exact_terms_1d", "exact_terms_2d", "true_gradient", "snap", "STEP"]
