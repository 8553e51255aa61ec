"""Compatibility imports: the explorers' shared pieces live in ``vae_teach.explorers._base`` and ``kit.js``."""

from vae_teach.explorers._base import STEP, snap

__all__ = ["STEP", "snap"]
