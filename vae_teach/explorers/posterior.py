"""PosteriorExplorer: q's mean and log σ against the true posterior of a toy model, with log p(x) = ELBO + gap.

Python ships the data once; the browser computes every readout (posterior.js):
- 1-D (``toy.Nonlinear1D``): log p(x, z) tabulated on a z grid wide enough for every q the sliders allow; log p(x),
  the ELBO and the gap are trapezoid sums over that table (eq. 2-3);
- 2-D (a ``toy.LinearGaussian`` with k = 2): the closed forms, from W, b, σ, x and the exact posterior.
Python's ``readout()`` (Gauss–Hermite in 1-D, closed form in 2-D, ``toy.exact_terms_1d/2d``) is the reference the
tests hold the page to. "fit q" runs ``fit_q`` in the kernel; in a static page without a kernel, the page runs its
own gradient ascent on its exact ELBO.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
import traitlets as T
from torch import distributions as D

from vae_teach import bounds, toy
from vae_teach._checks import count
from vae_teach.explorers._base import (
    Explorer,
    f64,
    finite_number,
    finite_vector,
    int_in,
    module_source,
    snap,
    style_source,
)

LOG_SIGMA_RANGE = (-3.0, 1.5)
GRID_STEP = 0.01  # z spacing of the 1-D table: the trapezoid sum is then exact to ~1e-9 nats for σ >= e^-3


class PosteriorExplorer(Explorer):
    """q's mean / log σ sliders over the true posterior of a toy model, with a live log p(x) = ELBO + gap bar.

    Taught in 02 §4 (q ≠ p(z|x)) and 03 Going deeper C (log p(x) = ELBO + KL(q ‖ p(z|x)), eq. 1).
    """

    _esm = module_source("posterior")
    _css = style_source()

    k = T.Int(1).tag(sync=True)
    mean = T.List(T.Float()).tag(sync=True)
    log_sigma = T.List(T.Float()).tag(sync=True)
    window = T.List().tag(sync=True)  # [[lo, hi]] per latent dim: the mean sliders' range and the plot's
    log_sigma_range = T.List(T.Float(), default_value=list(LOG_SIGMA_RANGE)).tag(sync=True)
    floor = T.Float(0.0).tag(sync=True)  # where the bar axis starts (nats)
    x_value = T.List(T.Float()).tag(sync=True)
    log_px_python = T.Float(0.0).tag(sync=True)  # for the 2-D case (closed form); 1-D computes its own
    grid = T.List(T.Float()).tag(sync=True)  # 1-D: [z0, dz, n]
    log_joint = T.Bytes().tag(sync=True)  # 1-D: float64 [n], log p(x, z) on the grid
    linear = T.Dict().tag(sync=True)  # 2-D: W, b, sigma, posterior mean and covariance
    fit_requests = T.Int(0).tag(sync=True)  # the page's "fit q" button counts up; the kernel runs fit_q
    fitting = T.Bool(False).tag(sync=True)
    message = T.Unicode("").tag(sync=True)

    def __init__(self, toy_model, x, mean=None, log_sigma=None, seed=0):
        if isinstance(toy_model, toy.Nonlinear1D):
            x = torch.tensor([finite_number("x", _one(x, "x must be one number for Nonlinear1D"))],
                             dtype=torch.float64)
            k, x = 1, x.reshape(1, 1)
        elif isinstance(toy_model, toy.LinearGaussian):
            if toy_model.k != 2:
                raise ValueError(f"PosteriorExplorer draws a 2-D latent plane: LinearGaussian must have k=2, "
                                 f"got k={toy_model.k}")
            xs = torch.as_tensor(x, dtype=toy_model.W.dtype).reshape(-1)
            if xs.numel() != toy_model.d:
                raise ValueError(f"x must have d={toy_model.d} values to match the LinearGaussian, got {xs.numel()}")
            k, x = 2, finite_vector("x", xs, toy_model.d).to(toy_model.W.dtype).reshape(1, -1)
        else:
            raise ValueError(f"toy_model must be toy.Nonlinear1D or a 2-D toy.LinearGaussian, "
                             f"got {type(toy_model).__name__}")
        self.model, self.x, self.seed = toy_model, x, int_in("seed", seed, 0, 2**63 - 1)
        self.posterior = toy_model.posterior(x) if k == 2 else None
        self.log_px = float(toy_model.log_marginal(x)[0])
        self._k = k
        window, mean0, log_sigma0 = self._setup_ranges(mean, log_sigma)
        super().__init__(k=k, window=window, x_value=[float(v) for v in x.reshape(-1)], log_px_python=self.log_px)
        self.set_q(mean0, log_sigma0)
        _, _, gap0 = self.terms(*self.state())
        self.floor = float(math.floor(self.log_px - max(4.0, 1.5 * gap0)))
        if k == 1:
            self._tabulate()
        else:
            post = self.posterior
            self.linear = {"W": toy_model.W.double().tolist(), "b": toy_model.b.double().tolist(),
                           "sigma": float(toy_model.sigma), "post_mean": post.loc[0].double().tolist(),
                           "post_cov": post.covariance_matrix[0].double().tolist()}
        self.observe(self._on_fit_request, names="fit_requests")

    # ---- maths (exact, in Python: the reference for the page) ----------------------------------------------
    def terms(self, mean, log_sigma):
        """(log p(x), ELBO, gap) for q with the given mean [k] and log σ [k] (exact).

        Part of the PosteriorExplorer of 02 §4 (its readout and tests); not called from a notebook.
        """
        mean = finite_vector("mean", mean, self._k)
        log_sigma = finite_vector("log_sigma", log_sigma, self._k)
        if self._k == 1:
            return toy.exact_terms_1d(self.model, self.x[:, 0], float(mean[0]), float(log_sigma[0]), self.log_px)
        return toy.exact_terms_2d(self.model, self.x, tuple(mean.tolist()), tuple(log_sigma.tolist()),
                                  self.posterior, self.log_px)

    def state(self):
        """Current (mean [k], log σ [k]), snapped to the slider grid.

        Part of the PosteriorExplorer of 02 §4 (its readout and tests); not called from a notebook.
        """
        return tuple(snap(v) for v in self.mean), tuple(snap(v) for v in self.log_sigma)

    def readout(self):
        """The current exact terms in nats: dict(log_px, elbo, gap).

        Taught in 03 Going deeper C.
        """
        log_px, elbo, gap = self.terms(*self.state())
        return {"log_px": log_px, "elbo": elbo, "gap": gap}

    def expected(self) -> dict:
        """One ArrowRight on the first mean slider: Python's readout there.

        Part of the PosteriorExplorer of 02 §4 (its browser tests); not called from a notebook.
        """
        mean, log_sigma = self.state()
        lo, hi = self.window[0]
        mean = (snap(mean[0] + 0.01, lo=lo, hi=hi), *mean[1:])
        log_px, elbo, gap = self.terms(mean, log_sigma)
        return {"control": "input.vae-q-mean", "key": "ArrowRight",
                "values": {"mean": list(mean), "log_px": log_px, "elbo": elbo, "gap": gap},
                "atol": {"mean": 1e-9, "log_px": 1e-6, "elbo": 1e-6, "gap": 1e-6}}

    # ---- construction ----------------------------------------------------------------------------------------
    def _setup_ranges(self, mean, log_sigma):
        """Plot window and slider ranges from the true posterior; default q."""
        if self._k == 1:
            grid = self.model.grid
            dens = self.model.posterior_density(self.x[:, 0], grid)[0]
            keep = grid[dens > 1e-3 * dens.max()]
            lo, hi = math.floor(float(keep.min()) - 0.75), math.ceil(float(keep.max()) + 0.75)
            window = [[float(min(lo, -3)), float(max(hi, 3))]]
            default_mean = [0.8]  # off the symmetric saddle at 0, so fitting settles on one mode
        else:
            m = self.posterior.loc[0].numpy()
            sd = float(torch.linalg.eigvalsh(self.posterior.covariance_matrix[0]).max().sqrt())
            r = max(4.0 * sd, 1.5)
            window = [[snap(m[i] - r, 0.5), snap(m[i] + r, 0.5)] for i in range(2)]
            default_mean = [snap(m[0] - 0.6 * r), snap(m[1] + 0.4 * r)]
        mean = default_mean if mean is None else finite_vector("mean", mean, self._k).tolist()
        log_sigma = [0.0] * self._k if log_sigma is None else finite_vector("log_sigma", log_sigma, self._k).tolist()
        return window, mean, log_sigma

    def _tabulate(self):
        """log p(x, z) on a z grid covering every q the sliders allow (mean in the window, ±9 σ_max)."""
        reach = max(abs(v) for v in self.window[0]) + 9.0 * math.exp(LOG_SIGMA_RANGE[1])
        n = 2 * math.ceil(reach / GRID_STEP) + 1
        z0 = -GRID_STEP * (n // 2)
        z = z0 + GRID_STEP * torch.arange(n, dtype=torch.float64)
        self.grid = [z0, GRID_STEP, float(n)]
        self.log_joint = f64(self.model.log_joint(self.x[:, 0], z)[0])

    # ---- programmatic API ------------------------------------------------------------------------------------
    def set_q(self, mean, log_sigma):
        """Move q to mean [k], log σ [k] (snapped to the slider grid and clipped to the sliders' ranges).

        Part of the PosteriorExplorer of 02 §4 (used by fit_q and its tests); not called from a notebook.
        """
        mean = finite_vector("mean", mean, self._k)
        log_sigma = finite_vector("log_sigma", log_sigma, self._k)
        with self.hold_sync():
            self.mean = [snap(v, lo=lo, hi=hi) for v, (lo, hi) in zip(mean.tolist(), self.window, strict=True)]
            self.log_sigma = [snap(v, lo=LOG_SIGMA_RANGE[0], hi=LOG_SIGMA_RANGE[1]) for v in log_sigma.tolist()]

    def fit_q(self, steps=300, lr=0.05, n_samples=16, every=20):
        """Adam on the reparameterised ELBO (eq. 7) from q at the sliders, moving them every `every` steps.

        Returns the exact ELBO after each update (the first entry is the starting value); fixed generator.
        If the fit ends with a lower ELBO than it started from, q is put back; when it fell by more than 0.01 nats
        (a too large lr) a warning says so.

        Taught in 03 Going deeper C.
        """
        steps, n_samples, every = count("steps", steps), count("n_samples", n_samples), count("every", every)
        lr = finite_number("lr", lr)
        if lr <= 0:
            raise ValueError(f"lr must be a number > 0, got {lr!r}")
        mean, log_sigma = self.state()
        params = torch.tensor([*mean, *log_sigma], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([params], lr=lr)
        gen = torch.Generator().manual_seed(self.seed)
        x, prior, k = self.x, self.model.prior(), self._k
        lo = torch.tensor([w[0] for w in self.window] + [LOG_SIGMA_RANGE[0]] * k, dtype=torch.float64)
        hi = torch.tensor([w[1] for w in self.window] + [LOG_SIGMA_RANGE[1]] * k, dtype=torch.float64)
        trace = [self.readout()["elbo"]]
        for step in range(1, steps + 1):
            q = D.Independent(D.Normal(params[None, :k], params[None, k:].exp()), 1)
            loss = -bounds.elbo(x, q, prior, self.model.likelihood, n_samples, True, gen).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                params.copy_(torch.maximum(torch.minimum(params, hi), lo))
            if step % every == 0 or step == steps:
                p = params.detach().numpy()
                self.set_q(p[:k], p[k:])
                trace.append(self.readout()["elbo"])
        if trace[-1] < trace[0]:  # never leave q worse than it was
            self.set_q(mean, log_sigma)
            if trace[0] - trace[-1] > 0.01:
                self.message = (f"fit q lowered the ELBO from {trace[0]:.3f} to {trace[-1]:.3f} nats with "
                                f"lr={lr:g}; q was put back. Try a smaller lr, e.g. 0.05.")
                warnings.warn(self.message, stacklevel=2)
            else:  # the noisy gradient steps only jittered around an optimum
                self.message = "fit q found no better q than the one it started from; q was kept."
            trace.append(self.readout()["elbo"])
        else:
            self.message = ""
        return trace

    def _on_fit_request(self, change):
        """The page's fit button: run fit_q in the kernel, the sliders following every 20 steps."""
        if change["new"] <= change["old"] or self.fitting:
            return
        self.fitting = True
        try:
            self.fit_q()
        finally:
            self.fitting = False


def _one(value, message):
    """A single number from value (number, 1-element tensor or list), else ValueError(message, got ...)."""
    arr = np.asarray(value.detach() if isinstance(value, torch.Tensor) else value, dtype=object).reshape(-1)
    if arr.size != 1:
        raise ValueError(f"{message}, got {arr.size} values")
    return arr[0]
