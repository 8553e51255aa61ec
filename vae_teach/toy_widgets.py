"""Compatibility imports: the toy-model explorers live in ``vae_teach.explorers``; their maths in ``toy`` and
``gradients``."""

from vae_teach.explorers import GradientExplorer, PosteriorExplorer
from vae_teach.gradients import true_gradient
from vae_teach.toy import exact_terms_1d, exact_terms_2d

__all__ = ["PosteriorExplorer", "GradientExplorer", "exact_terms_1d", "exact_terms_2d", "true_gradient"]
