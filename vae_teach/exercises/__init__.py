"""Checked "Try it" exercises, one module per notebook (`from vae_teach.exercises import elbo as exercises`).

Every `check_*` function prints ✓, or ✗ with a hint, and never raises, so a notebook that ships with
its exercises unanswered still runs top to bottom. Reference solutions live here, not in the notebooks.
"""
