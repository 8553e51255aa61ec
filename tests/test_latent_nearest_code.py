"""latent.sigmas_to_nearest_code (notebook 08 §3), against a brute-force loop."""

import pytest
import torch

from vae_teach import latent


def test_sigmas_to_nearest_code_matches_a_loop_over_codes():
    gen = torch.Generator().manual_seed(0)
    z, mu = torch.randn(7, 2, generator=gen), torch.randn(5, 2, generator=gen)
    sigma = torch.rand(5, 2, generator=gen) + 0.1
    got = latent.sigmas_to_nearest_code(z, mu, sigma)
    want = torch.tensor([min(float(((zm - mu[i]) / sigma[i]).norm()) for i in range(5)) for zm in z])
    assert torch.allclose(got, want, atol=1e-6)
    # a point on a code is 0 of its σ away; one σ_1 to the side of a lone code is exactly 1
    assert float(latent.sigmas_to_nearest_code(mu[:1], mu, sigma)[0]) == pytest.approx(0.0, abs=1e-7)
    one = latent.sigmas_to_nearest_code(torch.tensor([[2.5, 0.0]]), torch.zeros(1, 2), torch.tensor([[0.5, 3.0]]))
    assert float(one[0]) == pytest.approx(5.0)


def test_sigmas_to_nearest_code_rejects_bad_shapes_and_sigma():
    with pytest.raises(ValueError, match="z must be"):
        latent.sigmas_to_nearest_code(torch.zeros(3, 3), torch.zeros(2, 2), torch.ones(2, 2))
    with pytest.raises(ValueError, match="sigma must be positive"):
        latent.sigmas_to_nearest_code(torch.zeros(3, 2), torch.zeros(2, 2), torch.zeros(2, 2))
