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
from matplotlib.patches import Ellipse
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

    Taught in 02 §4 (q ≠ p(z|x)) and 03 Going deeper D4 (log p(x) = ELBO + KL(q ‖ p(z|x)), eq. 1).
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

        Taught in 03 Going deeper D4.
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

    # ---- the static snapshot ---------------------------------------------------------------------------------
    def _snapshot_values(self) -> str:
        """q's mean and log σ as the caption writes them."""
        mean, log_sigma = self.state()
        return (f"q mean = {', '.join(f'{v:.2f}' for v in mean)}, "
                f"q log σ = {', '.join(f'{v:.2f}' for v in log_sigma)}")

    def _snapshot(self, fig) -> None:
        """What posterior.js draws at the sliders: the density panel and the log p(x) = ELBO + gap bars."""
        mean, log_sigma = self.state()
        r = self.readout()
        grid = fig.add_gridspec(1, 2, width_ratios=(2.1, 1) if self._k == 1 else (1.7, 1), wspace=0.42,
                                left=0.08, right=0.95, top=0.84, bottom=0.2)
        ax, bars = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
        (self._density_1d if self._k == 1 else self._density_2d)(ax, mean, log_sigma)
        self._bars(bars, r)
        fig.suptitle(f"log p(x) = {r['log_px']:.3f} nats   ELBO = {r['elbo']:.3f} nats   "
                     f"gap KL(q‖p(z|x)) = {r['gap']:.3f} nats", fontsize=8.5, family="monospace")

    def _density_1d(self, ax, mean, log_sigma):
        """True posterior p(z|x) (grey) and q = N(mean, σ²) (blue) over the window."""
        lo, hi = self.window[0]
        z = torch.linspace(lo, hi, 801, dtype=torch.float64)
        post = self.model.posterior_density(self.x[:, 0], z)[0].numpy()
        q = torch.distributions.Normal(mean[0], math.exp(log_sigma[0])).log_prob(z).exp().numpy()
        ax.fill_between(z.numpy(), post, color="#7f7f7f", alpha=0.35, lw=0)
        ax.plot(z.numpy(), post, color="k", lw=1.2, label="true posterior p(z|x)")
        ax.plot(z.numpy(), q, color="#1f77b4", lw=2.2, label="q(z) = N(mean, σ²)")
        ax.set(xlim=(lo, hi), ylim=(0, 2.3 * post.max()), xlabel="z", ylabel="density",
               title=f"true posterior and q, for x = {self.x_value[0]:.2f}")
        ax.legend(loc="upper left", frameon=False)

    def _density_2d(self, ax, mean, log_sigma):
        """Shaded true posterior with its 1σ/2σ contours, and diagonal q's 1σ/2σ ellipses."""
        (x0, x1), (y0, y1) = self.window
        pm = self.posterior.loc[0].numpy()
        cov = self.posterior.covariance_matrix[0].numpy()
        za, zb = np.meshgrid(np.linspace(x0, x1, 80), np.linspace(y0, y1, 80))
        d = np.stack([za - pm[0], zb - pm[1]], -1)
        mahal = np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d)
        ax.imshow(255 - 150 * np.exp(-0.5 * mahal), cmap="gray", vmin=0, vmax=255, origin="lower",
                  extent=(x0, x1, y0, y1), interpolation="nearest")
        vals, vecs = np.linalg.eigh(cov)
        angle = math.degrees(math.atan2(vecs[1, 1], vecs[0, 1]))
        s = np.exp(log_sigma)
        for k in (1, 2):
            ax.add_patch(Ellipse(pm, 2 * k * math.sqrt(vals[1]), 2 * k * math.sqrt(max(vals[0], 0)), angle=angle,
                                 fill=False, color="k", lw=1, label="true p(z|x), 1σ/2σ" if k == 1 else None))
            ax.add_patch(Ellipse(mean, 2 * k * s[0], 2 * k * s[1], fill=False, color="#1f77b4", lw=2.2 if k == 1
                                 else 1.2, label="q, 1σ/2σ" if k == 1 else None))
        ax.plot(*mean, "o", color="#1f77b4", ms=5)
        ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="z[0]", ylabel="z[1]", aspect="equal",
               title="true posterior (contours) and diagonal q")
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)

    def _bars(self, ax, r):
        """log p(x) (grey) beside ELBO (blue) + gap (red), on an axis starting at the floor."""
        floor, log_px = self.floor, r["log_px"]
        low = max(r["elbo"], floor)
        ax.bar([0], [log_px - floor], bottom=floor, width=0.7, color="#7f7f7f")
        ax.bar([1], [low - floor], bottom=floor, width=0.7, color="#1f77b4")
        ax.bar([1], [log_px - low], bottom=low, width=0.7, color="#d62728")
        ax.axhline(log_px, color="k", ls=(0, (4, 3)), lw=1)
        ax.text(0, (log_px + floor) / 2, f"log p(x)\n{log_px:.2f}", color="w", ha="center", va="center",
                fontsize=6.5)
        inside = r["elbo"] > floor + 0.12 * (log_px - floor)
        ax.text(1 if inside else 1.4, (low + floor) / 2 if inside else floor,
                f"ELBO\n{r['elbo']:.2f}" + ("" if r["elbo"] >= floor else "\n(below axis)"),
                color="w" if inside else "#1f77b4", ha="center" if inside else "left",
                va="center" if inside else "bottom", fontsize=6.5)
        ax.text(1.4, (low + log_px) / 2, f"gap\n{r['gap']:.3f}", color="#d62728", ha="left", va="center",
                fontsize=6.5)
        ax.set(xlim=(-0.5, 2.3), ylim=(floor, log_px + 0.14 * (log_px - floor)), xticks=[0, 1],
               xticklabels=["log p(x)", "ELBO + gap"], ylabel=f"nats (axis starts at {self.floor:g})")
        ax.set_title("log p(x) = ELBO + KL(q ‖ p(z|x))", fontsize=7.5)

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

        Taught in 03 Going deeper D4.
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
