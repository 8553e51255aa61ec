"""Moved to encoder_gradients.py ("estimator" now means the paper's ELBO estimators A and B, in bounds.py)."""

from vae_teach.encoder_gradients import METHODS, encoder_grad_samples, encoder_params, total_variance

__all__ = ["METHODS", "encoder_grad_samples", "encoder_params", "total_variance"]
