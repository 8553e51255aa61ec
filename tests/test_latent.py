"""vae_teach.latent against independent oracles (scipy's norm.ppf, numpy's corrcoef, brute force)."""

import numpy as np
import pytest
import torch
from scipy.stats import norm

from vae_teach import latent


def test_unit_grid_is_cell_centres_inside_the_square():
    u = latent.unit_grid(4)
    assert torch.allclose(u, torch.tensor([0.125, 0.375, 0.625, 0.875]))
    assert latent.unit_grid(1).tolist() == [0.5]


def test_manifold_grid_matches_scipy_inverse_cdf_and_picture_layout():
    n = 5
    z = latent.manifold_grid(n, margin=0.05)
    assert z.shape == (n * n, 2)
    expected = norm.ppf(np.linspace(0.05, 0.95, n))
    np.testing.assert_allclose(z[:n, 0].numpy(), expected, atol=1e-5)  # first row: z1 left to right
    np.testing.assert_allclose(z[::n, 1].numpy(), expected[::-1], atol=1e-5)  # first column: z2 top to bottom
    assert torch.all(z[:n, 1] == z[0, 1])  # a row shares one z2


def test_interpolate_ends_and_midpoint():
    a, b = torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0])
    path = latent.interpolate(a, b, 5)
    assert path.shape == (5, 2)
    assert torch.equal(path[0], a) and torch.equal(path[-1], b)
    assert torch.allclose(path[2], (a + b) / 2)


def test_correlation_matrix_matches_numpy_corrcoef():
    g = torch.Generator().manual_seed(0)
    z, f = torch.randn(200, 3, generator=g), torch.randn(200, 2, generator=g)
    f[:, 0] += 2 * z[:, 1]
    c = latent.correlation_matrix(z, f)
    full = np.corrcoef(np.concatenate([z.numpy(), f.numpy()], axis=1), rowvar=False)
    np.testing.assert_allclose(c.numpy(), full[:3, 3:], atol=1e-5)
    assert c.shape == (3, 2) and c[1, 0] > 0.8


def test_correlation_matrix_constant_column_is_zero_and_1d_factor_ok():
    z = torch.randn(50, 2, generator=torch.Generator().manual_seed(1))
    f = torch.ones(50, dtype=torch.long)
    assert torch.equal(latent.correlation_matrix(z, f), torch.zeros(2, 1))


def test_nearest_distance_brute_force():
    p = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    r = torch.tensor([[0.0, 1.0], [3.0, 0.0]])
    assert torch.allclose(latent.nearest_distance(p, r), torch.tensor([1.0, 4.0]))


@pytest.mark.parametrize(
    "call",
    [
        lambda: latent.unit_grid(0),
        lambda: latent.manifold_grid(3, margin=0.7),
        lambda: latent.interpolate(torch.zeros(2), torch.zeros(3), 4),
        lambda: latent.interpolate(torch.zeros(2), torch.zeros(2), 1),
        lambda: latent.correlation_matrix(torch.zeros(5, 2), torch.zeros(4, 1)),
        lambda: latent.nearest_distance(torch.zeros(5, 2), torch.zeros(4, 3)),
    ],
)
def test_bad_inputs_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_aggregate_log_density_matches_scipy_mixture():
    g = torch.Generator().manual_seed(2)
    mu = torch.randn(5, 2, generator=g, dtype=torch.float64)
    sigma = 0.3 + torch.rand(5, 2, generator=g, dtype=torch.float64)
    z = torch.randn(4, 2, generator=g, dtype=torch.float64)
    dens = np.zeros(4)
    for m, s in zip(mu.numpy(), sigma.numpy(), strict=True):
        dens += norm.pdf(z.numpy(), m, s).prod(axis=1) / 5
    np.testing.assert_allclose(latent.aggregate_log_density(z, mu, sigma).numpy(), np.log(dens), rtol=1e-10)


def test_aggregate_of_one_standard_normal_is_the_prior():
    z = torch.randn(6, 3, generator=torch.Generator().manual_seed(4))
    prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    assert torch.allclose(latent.aggregate_log_density(z, torch.zeros(1, 3), torch.ones(1, 3)), prior, atol=1e-6)


def test_aggregate_log_density_rejects_bad_sigma():
    with pytest.raises(ValueError):
        latent.aggregate_log_density(torch.zeros(2, 2), torch.zeros(3, 2), torch.zeros(3, 2))
