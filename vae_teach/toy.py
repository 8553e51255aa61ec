"""Toy latent-variable models where every ELBO term is exact: linear-Gaussian (pPCA) and a 1-D nonlinear one.

Shapes: LinearGaussian takes z [n, k] and x [n, d]. Nonlinear1D takes z [m, 1] in ``likelihood`` (so it
plugs into ``bounds`` like any model) and x as [n] or [n, 1] everywhere; it computes in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import distributions as D

from vae_teach import _checks as check
from vae_teach._checks import count as _count


class LinearGaussian:
    """z ~ N(0, I_k), x | z ~ N(W z + b, sigma^2 I_d) with W [d, k]: probabilistic PCA.

    Taught in 01 §1.
    """

    def __init__(self, W, b, sigma) -> None:
        W = check.tensor("W", W, ("d", "k"), kind="float", convert=True, nonempty=True)
        b = check.tensor("b", b, (W.shape[0],), convert=W.dtype).to(W.dtype)
        self.sigma = check.number("sigma", sigma, above=0)
        self.W, self.b = W, b
        self.d, self.k = W.shape

    def __repr__(self) -> str:
        return f"LinearGaussian(d={self.d}, k={self.k}, sigma={self.sigma:.4g})"

    def _x(self, x) -> torch.Tensor:
        """Validate x as a finite [n >= 1, d] tensor and cast it to the model's dtype."""
        return check.tensor("x", x, ("n", self.d), min_rows=1).to(self.W.dtype)

    def prior(self) -> D.Distribution:
        """p(z) = N(0, I_k) as Independent(Normal), event [k].

        Taught in 01 §2.
        """
        zeros = torch.zeros(self.k, dtype=self.W.dtype)
        return D.Independent(D.Normal(zeros, torch.ones_like(zeros)), 1)

    def likelihood(self, z: torch.Tensor) -> D.Distribution:
        """p(x|z) = N(W z + b, sigma^2 I): z [..., k] -> distribution batch [...], event [d].

        Taught in 01 §1.
        """
        mean = check.tensor("z", z, ("...", self.k)).to(self.W.dtype) @ self.W.T + self.b
        return D.Independent(D.Normal(mean, torch.full_like(mean, self.sigma)), 1)

    def marginal(self) -> D.MultivariateNormal:
        """p(x) = N(b, W W^T + sigma^2 I), event [d].

        Taught in 01 §1.
        """
        cov = self.W @ self.W.T + self.sigma**2 * torch.eye(self.d, dtype=self.W.dtype)
        return D.MultivariateNormal(self.b, covariance_matrix=cov)

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) = log N(x; b, W W^T + sigma^2 I): [n, d] -> [n].

        Taught in 01 §1.
        """
        return self.marginal().log_prob(self._x(x))

    def posterior(self, x: torch.Tensor) -> D.MultivariateNormal:
        """Exact p(z|x) = N(M^-1 W^T (x - b), sigma^2 M^-1), M = W^T W + sigma^2 I: [n, d] -> batch [n].

        Taught in 01 §2.
        """
        x = self._x(x)
        M = self.W.T @ self.W + self.sigma**2 * torch.eye(self.k, dtype=self.W.dtype)
        L = torch.linalg.cholesky(M)
        mean = torch.cholesky_solve(((x - self.b) @ self.W).T, L).T
        cov = self.sigma**2 * torch.cholesky_inverse(L)
        cov = 0.5 * (cov + cov.T)
        return D.MultivariateNormal(mean, covariance_matrix=cov.expand(x.shape[0], self.k, self.k))

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Ancestral sampling z ~ p(z), x ~ p(x|z): -> (z [n, k], x [n, d]).

        Taught in 01 §1.
        """
        n = _count("n", n)
        z = torch.randn(n, self.k, generator=generator, dtype=self.W.dtype)
        noise = torch.randn(n, self.d, generator=generator, dtype=self.W.dtype)
        return z, z @ self.W.T + self.b + self.sigma * noise

    @property
    def tau(self) -> float:
        """The observation noise τ of x | z ~ N(W z + b, τ² I) (the course's name; stored as ``sigma``).

        Taught in 01 §1.
        """
        return self.sigma

    def expected_log_lik(self, mu: torch.Tensor, sigma: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """E_q[log p(x|z)] for q = N(mu, diag sigma²), in closed form (notebook 03 §2): [n, k], [n, k], [n, d] -> [n].

        The reconstruction term of the ELBO (AEVB eq. 3, 7) with no sampling: writing z = mu + sigma ⊙ ε,
        E||x - W z - b||² = ||x - W mu - b||² + Σ_j sigma_j² ||W_:j||², so
        E_q[log p(x|z)] = -d/2 log(2π τ²) - (||x - W mu - b||² + Σ_j sigma_j² ||W_:j||²) / (2 τ²).

        Taught in 03 §2.
        """
        x = self._x(x)
        mu, sigma = torch.as_tensor(mu, dtype=self.W.dtype), torch.as_tensor(sigma, dtype=self.W.dtype)
        if mu.shape != (x.shape[0], self.k) or sigma.shape != mu.shape:
            raise ValueError(
                f"mu and sigma must both be [n, k] = [{x.shape[0]}, {self.k}] to match x, "
                f"got mu {check.describe(mu)} and sigma {check.describe(sigma)}"
            )
        if not torch.all(sigma >= 0):
            raise ValueError(f"sigma must be >= 0 everywhere, got a minimum of {sigma.min().item():.3g}")
        squared = ((x - mu @ self.W.T - self.b) ** 2).sum(-1) + (sigma**2 * (self.W**2).sum(0)).sum(-1)
        return -0.5 * self.d * math.log(2 * math.pi * self.sigma**2) - squared / (2 * self.sigma**2)

    @classmethod
    def fit_ppca(cls, x: torch.Tensor, k: int, ddof: int = 0) -> LinearGaussian:
        """Closed-form pPCA (float64): x [n, d] -> k latents; ddof=0 is the MLE (Tipping & Bishop eq. 7-8).

        Used by tests/test_toy.py and tests/test_compare.py; not called from a notebook.
        """
        x = check.tensor("x", x, ("n", "d"), min_rows=1)
        k = _count("k", k)
        n, d = x.shape
        if k >= d:
            raise ValueError(f"k must be < d = {d} (sigma comes from the discarded dims), got {k}")
        if check.choice("ddof", ddof, (0, 1)) >= n:
            raise ValueError(f"ddof must be 0 or 1 with n > ddof, got ddof={ddof!r} and n={n}")
        x = x.to(torch.float64)
        mean = x.mean(0)
        xc = x - mean
        evals, evecs = torch.linalg.eigh(xc.T @ xc / (n - ddof))
        evals, evecs = evals.flip(0), evecs.flip(1)
        sigma2 = float(evals[k:].mean())
        if sigma2 <= 0:
            raise ValueError(f"x has no variance outside its top {k} principal directions; use a smaller k")
        W = evecs[:, :k] * (evals[:k] - sigma2).clamp_min(0).sqrt()
        return cls(W, mean, math.sqrt(sigma2))


def square(z: torch.Tensor) -> torch.Tensor:
    """f(z) = z^2, the default Nonlinear1D mean: x > 0 has two explanations, z = ±sqrt(x).

    The default mean of toy.Nonlinear1D (01 §1); not called from a notebook.
    """
    return z * z


class Nonlinear1D:
    """z ~ N(0, 1), x | z ~ N(f(z), sigma^2); for f(z) = z^2, p(z|x) is bimodal when x > sigma^2 / 2.

    Taught in 01 §1.
    """

    def __init__(
        self,
        f: Callable[[torch.Tensor], torch.Tensor] | None = None,
        sigma: float = 0.5,
        z_limit: float = 12.0,
        n_grid: int = 8001,
    ) -> None:
        if f is not None:
            check.elementwise("f", f)
        self.f = square if f is None else f
        self.sigma = check.number("sigma", sigma, above=0)
        self.z_limit = check.number("z_limit", z_limit, above=0)
        self.n_grid = _count("n_grid", n_grid, minimum=3)
        self.grid = torch.linspace(-self.z_limit, self.z_limit, self.n_grid, dtype=torch.float64)
        self.d = self.k = 1

    @property
    def tau(self) -> float:
        """The observation noise τ of x | z ~ N(f(z), τ²) (the course's name; stored as ``sigma``).

        Taught in 01 §1.
        """
        return self.sigma

    def __repr__(self) -> str:
        name = getattr(self.f, "__name__", repr(self.f))
        return f"Nonlinear1D(f={name}, sigma={self.sigma:.4g})"

    @staticmethod
    def _x(x) -> torch.Tensor:
        """Validate x as finite [n] or [n, 1] (or a number) and return it as float64 [n]."""
        x = check.tensor("x", x, convert=torch.float64)
        if x.dim() == 2 and x.shape[1] == 1 or x.dim() == 0:
            x = x.reshape(-1)
        if x.dim() != 1:
            raise ValueError(f"x must be [n] or [n, 1], got {check.describe(x)}")
        return x.to(torch.float64)

    def prior(self) -> D.Distribution:
        """p(z) = N(0, 1) as Independent(Normal), event [1].

        Taught in 01 §2.
        """
        zeros = torch.zeros(1, dtype=torch.float64)
        return D.Independent(D.Normal(zeros, torch.ones_like(zeros)), 1)

    def likelihood(self, z: torch.Tensor) -> D.Distribution:
        """p(x|z) = N(f(z), sigma^2): z [..., 1] -> distribution batch [...], event [1].

        Taught in 01 §2.
        """
        mean = self.f(check.tensor("z", z, ("...", 1)).to(torch.float64))
        return D.Independent(D.Normal(mean, torch.full_like(mean, self.sigma)), 1)

    def log_joint(self, x, z: torch.Tensor) -> torch.Tensor:
        """log p(x, z) = log N(z; 0, 1) + log N(x; f(z), sigma^2): x [n], z [m] -> [n, m].

        Taught in 02 §1.
        """
        x = self._x(x)
        z = check.tensor("z", z, convert=torch.float64).to(torch.float64).reshape(-1)
        log_pz = D.Normal(0.0, 1.0).log_prob(z)
        return log_pz + D.Normal(self.f(z), self.sigma).log_prob(x[:, None])

    def log_marginal(self, x) -> torch.Tensor:
        """log p(x) = log ∫ p(z) p(x|z) dz by the trapezoid rule on the z grid: x [n] or [n, 1] -> [n].

        Taught in 01 §1.
        """
        lj = self.log_joint(x, self.grid)
        step = 2 * self.z_limit / (self.n_grid - 1)
        ends = torch.logaddexp(lj[:, 0], lj[:, -1]) + math.log(0.5)
        inner = torch.logsumexp(lj, 1)
        if (ends - inner > math.log(1e-12)).any():
            raise ValueError(
                f"p(z|x) has mass at the grid edge |z| = {self.z_limit:g} for some x (max |x| = "
                f"{self._x(x).abs().max().item():.3g}); build Nonlinear1D with a larger z_limit"
            )
        return inner + torch.log1p(-(ends - inner).exp()) + math.log(step)

    def posterior_density(self, x, z) -> torch.Tensor:
        """p(z|x) = p(x, z) / p(x) on given z: x [n] or [n, 1], z [m] -> [n, m] (a number x gives [m]).

        Taught in 01 §2.
        """
        x = check.tensor("x", x, convert=torch.float64)
        out = (self.log_joint(x, z) - self.log_marginal(x)[:, None]).exp()
        return out[0] if x.dim() == 0 else out

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Ancestral sampling: -> (z [n, 1], x [n, 1]) in float64.

        Taught in 01 §1.
        """
        n = _count("n", n)
        z = torch.randn(n, 1, generator=generator, dtype=torch.float64)
        noise = torch.randn(n, 1, generator=generator, dtype=torch.float64)
        return z, self.f(z) + self.sigma * noise


# ---- exact ELBO terms for a Gaussian q (used by notebooks 02-03 and the PosteriorExplorer) -----------------
def gauss_hermite(n: int = 80) -> tuple[torch.Tensor, torch.Tensor]:
    """Hermite nodes t [n] and weights w [n] (float64): E_{N(m, s^2)}[g(z)] ≈ Σ w g(m + √2 s t), exact for
    polynomials g of degree < 2n.

    Used by gradients.true_gradient and the GradientExplorer of 05 Going deeper D6; not called from a notebook.
    """
    import numpy as np

    t, w = np.polynomial.hermite.hermgauss(_count("n", n))
    return torch.as_tensor(t), torch.as_tensor(w / math.sqrt(math.pi))


_GH_T, _GH_W = gauss_hermite(80)


def exact_terms_1d(model: Nonlinear1D, x, mean: float, log_sigma: float, log_px: float | None = None):
    """(log p(x), ELBO, KL(q || p(z|x))) for q = N(mean, e^{2 log_sigma}) by 80-node Gauss–Hermite (eq. 2-3).

    Used by the PosteriorExplorer of 02 §4; not called from a notebook.
    """
    s = math.exp(log_sigma)
    z = mean + math.sqrt(2.0) * s * _GH_T
    log_px = float(model.log_marginal(x)[0]) if log_px is None else log_px
    log_joint = model.log_joint(x, z)[0]
    log_q = D.Normal(torch.tensor(float(mean), dtype=torch.float64), s).log_prob(z)
    elbo = float((_GH_W * (log_joint - log_q)).sum())  # E_q[log p(x, z) - log q(z)]   (eq. 3)
    gap = float((_GH_W * (log_q - (log_joint - log_px))).sum())  # E_q[log q(z) - log p(z|x)]
    return log_px, elbo, gap


def linear_expected_log_lik(model: LinearGaussian, x: torch.Tensor, mean, log_sigma) -> torch.Tensor:
    """E_q[log p(x|z)] in closed form for q = N(mean [k], diag e^{2 log_sigma}), x [d] -> scalar (eq. 7, first term).

    = -d/2 log(2 pi sigma^2) - (|x - W m - b|^2 + tr(W diag(s^2) W^T)) / (2 sigma^2).

    Used by toy.exact_terms_2d; not called from a notebook.
    """
    mean = torch.as_tensor(mean, dtype=torch.float64)
    s2 = torch.as_tensor(log_sigma, dtype=torch.float64).mul(2).exp()
    W, b, var = model.W.double(), model.b.double(), model.sigma**2
    sq = (x.double() - (W @ mean + b)).pow(2).sum() + (W.pow(2) * s2).sum()
    return -0.5 * model.d * math.log(2 * math.pi * var) - sq / (2 * var)


def exact_terms_2d(model: LinearGaussian, x, mean, log_sigma, posterior=None, log_px: float | None = None):
    """(log p(x), ELBO, KL(q || p(z|x))) in closed form: LinearGaussian, q = N(mean [k], diag e^{2 log_sigma}).

    Used by the PosteriorExplorer of 02 §4; not called from a notebook.
    """
    from vae_teach.bounds import gaussian_kl

    mean = torch.as_tensor(mean, dtype=torch.float64)
    log_sigma = torch.as_tensor(log_sigma, dtype=torch.float64)
    elbo = linear_expected_log_lik(model, x[0], mean, log_sigma) - gaussian_kl(mean, 2 * log_sigma)  # eq. 7
    post = model.posterior(x) if posterior is None else posterior
    q = D.MultivariateNormal(mean, scale_tril=torch.diag(log_sigma.exp()))
    gap = D.kl_divergence(q, D.MultivariateNormal(post.loc[0].double(), scale_tril=post.scale_tril[0].double()))
    log_px = float(model.log_marginal(x)[0]) if log_px is None else log_px
    return log_px, float(elbo), float(gap)


# notebooks 01–04 -----------------------------------------------------------------------------------------------------
def linear_elbo_terms(W, b, tau, mu, sigma, x) -> dict[str, torch.Tensor]:
    """Exact ELBO, log p(x) and gap KL(q || p(z|x)) of the linear-Gaussian model, differentiable in every argument.

    Model z ~ N(0, I_J), x|z ~ N(W z + b, tau^2 I_D) with W [D, J], b [D]; q = N(mu, diag sigma^2), mu and sigma
    [n, J]; x [n, D] -> {"elbo", "log_px", "gap"}, each [n]. The three come from LinearGaussian's separate closed
    forms (the gap as a Gaussian KL to the exact posterior), so log p(x) = ELBO + gap is a check, not a definition.

    Taught in 03 §2 (one gradient step on θ alone, one on φ alone).
    """
    model = LinearGaussian(W, b, tau)
    q = D.Independent(D.Normal(mu, sigma), 1)
    kl_prior = D.kl_divergence(q, model.prior())  # KL(q || N(0, I)), appendix B
    elbo = model.expected_log_lik(mu, sigma, x) - kl_prior  # eq. 7, with no sampling
    gap = D.kl_divergence(D.MultivariateNormal(mu, scale_tril=torch.diag_embed(sigma)), model.posterior(x))
    return {"elbo": elbo, "log_px": model.log_marginal(x), "gap": gap}
