"""Explorers on the toy models: q against the exact posterior (with a log p(x) = ELBO + gap readout) and the
two gradient estimators side by side. Figures are persistent and blitted, so a tick redraws only what moved.
"""

import math

import ipywidgets as W
import numpy as np
import torch
from torch import distributions as D

from vae_teach import bounds, gradients, plots, toy
from vae_teach.widget_kit import BLUE, GREY, RED, STEP, Blitter, Displayable, button, nice_range, single_thread, snap

_GH_T, _GH_W = np.polynomial.hermite.hermgauss(80)


def exact_terms_1d(model, x, mean, log_sigma, log_px=None):
    """(log p(x), ELBO, KL(q || p(z|x))) for q = N(mean, e^{2 log_sigma}) by 80-node Gauss–Hermite quadrature."""
    s = math.exp(log_sigma)
    z = torch.as_tensor(mean + math.sqrt(2.0) * s * _GH_T, dtype=torch.float64)
    w = torch.as_tensor(_GH_W / math.sqrt(math.pi), dtype=torch.float64)
    log_px = float(model.log_marginal(x)[0]) if log_px is None else log_px
    log_joint = model.log_joint(x, z)[0]
    log_q = D.Normal(torch.tensor(float(mean), dtype=torch.float64), s).log_prob(z)
    elbo = float((w * (log_joint - log_q)).sum())  # E_q[log p(x, z) - log q(z)]   (eq. 3)
    gap = float((w * (log_q - (log_joint - log_px))).sum())  # E_q[log q(z) - log p(z|x)]
    return log_px, elbo, gap


def exact_terms_2d(model, x, mean, log_sigma, posterior=None, log_px=None):
    """(log p(x), ELBO, KL(q || p(z|x))) in closed form: LinearGaussian, q = N(mean [2], diag e^{2 log_sigma})."""
    mean = torch.as_tensor(mean, dtype=torch.float64)
    log_sigma = torch.as_tensor(log_sigma, dtype=torch.float64)
    W, b, var = model.W.double(), model.b.double(), model.sigma**2
    s = log_sigma.exp()
    resid = x[0].double() - (W @ mean + b)
    # E_q[log p(x|z)] = -d/2 log(2 pi sigma^2) - (|x - W m - b|^2 + tr(W diag(s^2) W^T)) / (2 sigma^2)
    sq = resid.pow(2).sum() + (W.pow(2) * s.pow(2)).sum()
    exp_ll = -0.5 * model.d * math.log(2 * math.pi * var) - sq / (2 * var)
    elbo = exp_ll - bounds.gaussian_kl(mean, 2 * log_sigma)  # eq. 7: E_q[log p(x|z)] - KL(q || p(z))
    post = model.posterior(x) if posterior is None else posterior
    q = D.MultivariateNormal(mean, scale_tril=torch.diag(s))
    gap = D.kl_divergence(q, D.MultivariateNormal(post.loc[0].double(), scale_tril=post.scale_tril[0].double()))
    log_px = float(model.log_marginal(x)[0]) if log_px is None else log_px
    return log_px, float(elbo), float(gap)


def readout_text(log_px, elbo, gap):
    """The one-line HTML readout of log p(x), the ELBO and the gap KL(q || p(z|x)), in nats."""
    return (f"<span style='font-family:monospace'>log p(x) = {log_px:.3f} nats &nbsp; ELBO = {elbo:.3f} nats "
            f"&nbsp; gap KL(q‖p(z|x)) = {gap:.3f} nats</span>")


class PosteriorExplorer(Displayable):
    """q's mean / log σ sliders over the true posterior of a toy model, with a live log p(x) = ELBO + gap bar."""

    def __init__(self, toy_model, x, mean=None, log_sigma=None, seed=0):
        if isinstance(toy_model, toy.Nonlinear1D):
            x = torch.as_tensor(x, dtype=torch.float64).reshape(-1)
            if x.numel() != 1:
                raise ValueError(f"x must be one number for Nonlinear1D, got {x.numel()} values")
            self.k, self.x = 1, x.reshape(1, 1)
        elif isinstance(toy_model, toy.LinearGaussian):
            if toy_model.k != 2:
                raise ValueError(f"PosteriorExplorer draws a 2-D latent plane: LinearGaussian must have k=2, "
                                 f"got k={toy_model.k}")
            x = torch.as_tensor(x, dtype=toy_model.W.dtype).reshape(1, -1)
            if x.shape[1] != toy_model.d:
                raise ValueError(f"x must have d={toy_model.d} values to match the LinearGaussian, got {x.shape[1]}")
            self.k, self.x = 2, x
            self.posterior = toy_model.posterior(x)
        else:
            raise ValueError(f"toy_model must be toy.Nonlinear1D or a 2-D toy.LinearGaussian, "
                             f"got {type(toy_model).__name__}")
        self.model, self.seed = toy_model, seed
        self.log_px = float(toy_model.log_marginal(x.reshape(1, -1) if self.k == 2 else x)[0])
        self._hold = False
        self._shown = None
        mean0, log_sigma0 = self._setup_ranges(mean, log_sigma)
        self._build_sliders(mean0, log_sigma0)
        self._build_figure()
        self._render(force=True)

    # ---- maths -------------------------------------------------------------------------------------------
    def terms(self, mean, log_sigma):
        """(log p(x), ELBO, gap) for q with the given mean [k] and log σ [k] (exact)."""
        if self.k == 1:
            return exact_terms_1d(self.model, self.x[:, 0], float(mean[0]), float(log_sigma[0]), self.log_px)
        return exact_terms_2d(self.model, self.x, mean, log_sigma, self.posterior, self.log_px)

    def state(self):
        """Current (mean [k], log σ [k]) from the sliders, snapped to the grid."""
        return (tuple(snap(s.value) for s in self.mean_sliders), tuple(snap(s.value) for s in self.log_sigma_sliders))

    def readout(self):
        """The current exact terms in nats: dict(log_px, elbo, gap)."""
        log_px, elbo, gap = self.terms(*self.state())
        return {"log_px": log_px, "elbo": elbo, "gap": gap}

    # ---- construction ------------------------------------------------------------------------------------
    def _setup_ranges(self, mean, log_sigma):
        """Plot window and slider ranges from the true posterior; default q."""
        if self.k == 1:
            grid = self.model.grid
            dens = self.model.posterior_density(self.x[:, 0], grid)[0]
            keep = grid[dens > 1e-3 * dens.max()]
            lo, hi = math.floor(float(keep.min()) - 0.75), math.ceil(float(keep.max()) + 0.75)
            self.window = [(min(lo, -3), max(hi, 3))]
            default_mean = [0.8]  # off the symmetric saddle at 0, so fitting settles on one mode
        else:
            m = self.posterior.loc[0].numpy()
            sd = float(torch.linalg.eigvalsh(self.posterior.covariance_matrix[0]).max().sqrt())
            r = max(4.0 * sd, 1.5)
            self.window = [(snap(m[i] - r, 0.5), snap(m[i] + r, 0.5)) for i in range(2)]
            default_mean = [snap(m[0] - 0.6 * r), snap(m[1] + 0.4 * r)]
        mean = default_mean if mean is None else [float(v) for v in np.atleast_1d(mean)]
        log_sigma = [0.0] * self.k if log_sigma is None else [float(v) for v in np.atleast_1d(log_sigma)]
        if len(mean) != self.k or len(log_sigma) != self.k:
            raise ValueError(f"mean and log_sigma must have {self.k} values, got {len(mean)} and {len(log_sigma)}")
        return mean, log_sigma

    def _build_sliders(self, mean, log_sigma):
        """Mean and log σ sliders per latent dim, a fit button and the readout."""
        names = ["z"] if self.k == 1 else ["z[0]", "z[1]"]
        self.mean_sliders, self.log_sigma_sliders = [], []
        for i in range(self.k):
            lo, hi = self.window[i]
            m = W.FloatSlider(value=snap(mean[i], lo=lo, hi=hi), min=lo, max=hi, step=STEP,
                              description=f"q mean {names[i]}", readout_format=".2f",
                              style={"description_width": "110px"}, layout=W.Layout(width="380px"))
            m.add_class("vae-q-mean")
            ls = W.FloatSlider(value=snap(log_sigma[i], lo=-3.0, hi=1.5), min=-3.0, max=1.5, step=STEP,
                               description=f"q log σ {names[i]}", readout_format=".2f",
                               style={"description_width": "110px"}, layout=W.Layout(width="380px"))
            ls.add_class("vae-q-logsigma")
            self.mean_sliders.append(m)
            self.log_sigma_sliders.append(ls)
        self.sliders = self.mean_sliders + self.log_sigma_sliders
        for s in self.sliders:
            s.observe(self._on_slider, names="value")
        self.fit_button = button("fit q", icon="play", tooltip="gradient ascent on the ELBO")
        self.fit_button.on_click(self._on_fit)
        self.readout_html = W.HTML()
        self.readout_html.add_class("vae-posterior-readout")
        self.image = W.Image(format="png")
        self.image.add_class("vae-posterior-panel")
        self.widget = W.VBox([self.image, self.readout_html, W.HBox([W.VBox(self.sliders), self.fit_button])])
        self.widget.add_class("vae-posterior-explorer")

    def _build_figure(self):
        """The persistent figure: density panel (left) and the stacked bar readout (right)."""
        fig = plots.new_figure(9.0, 3.6, dpi=80)
        gs = fig.add_gridspec(1, 2, width_ratios=(2.1, 1.0) if self.k == 1 else (1.7, 1.0))
        ax, axb = fig.add_subplot(gs[0]), fig.add_subplot(gs[1])
        dyn = self._density_axes(ax) + self._bar_axes(axb)
        fig.tight_layout(pad=0.6)
        self._blit = Blitter(fig, dyn)

    def _density_axes(self, ax):
        """Draw the static posterior and create q's animated artists; return them."""
        if self.k == 1:
            lo, hi = self.window[0]
            self._zg = torch.linspace(lo, hi, 500, dtype=torch.float64)
            post = self.model.posterior_density(self.x[:, 0], self._zg)[0].numpy()
            ax.fill_between(self._zg.numpy(), post, color=GREY, alpha=0.35, lw=0)
            ax.plot(self._zg.numpy(), post, color="k", lw=1.2, label="true posterior p(z|x)")
            (self._q_line,) = ax.plot([], [], color=BLUE, lw=2.2, label="q(z) = N(mean, σ²)")
            ax.set_xlim(lo, hi)
            ax.set_ylim(0, 2.3 * post.max())
            ax.set_xlabel("z")
            ax.set_ylabel("density")
            ax.set_title(f"true posterior and q, for x = {float(self.x):.2f}")
            ax.legend(loc="upper left", fontsize=9)
            return [self._q_line]
        (x0, x1), (y0, y1) = self.window
        g0, g1 = torch.meshgrid(torch.linspace(x0, x1, 160, dtype=torch.float64),
                                torch.linspace(y0, y1, 160, dtype=torch.float64), indexing="xy")
        mvn = D.MultivariateNormal(self.posterior.loc[0], covariance_matrix=self.posterior.covariance_matrix[0])
        dens = mvn.log_prob(torch.stack([g0, g1], -1)).exp().numpy()
        ax.imshow(dens, origin="lower", extent=(x0, x1, y0, y1), cmap="Greys", alpha=0.6, aspect="auto")
        levels = [float(dens.max() * math.exp(-0.5 * k * k)) for k in (2, 1)]
        ax.contour(g0.numpy(), g1.numpy(), dens, levels=levels, colors="k", linewidths=1.0)
        ax.plot([], [], color="k", lw=1.0, label="true p(z|x), 1σ/2σ")
        self._q_lines = [ax.plot([], [], color=BLUE, lw=lw, label=lab)[0]
                         for lw, lab in ((2.2, "q, 1σ/2σ"), (1.2, None))]
        (self._q_centre,) = ax.plot([], [], "o", color=BLUE, ms=5)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("z[0]")
        ax.set_ylabel("z[1]")
        ax.set_title("true posterior (contours) and diagonal q")
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)  # beside: q never covers it
        return [*self._q_lines, self._q_centre]

    def _bar_axes(self, axb):
        """Static log p(x) bar and axis; animated ELBO and gap bars with their labels."""
        _, elbo0, gap0 = self.terms(*self.state())
        lp = self.log_px
        self.floor = float(math.floor(lp - max(4.0, 1.5 * gap0)))
        top = lp + 0.14 * (lp - self.floor)
        axb.bar([0], [lp - self.floor], bottom=self.floor, width=0.6, color=GREY)
        axb.text(0, (lp + self.floor) / 2, f"log p(x)\n{lp:.2f}", ha="center", va="center", color="w", fontsize=9)
        axb.axhline(lp, color="k", ls="--", lw=1)
        self._elbo_bar = axb.bar([1], [1.0], bottom=self.floor, width=0.6, color=BLUE)[0]
        self._gap_bar = axb.bar([1], [1.0], bottom=self.floor, width=0.6, color=RED)[0]
        self._elbo_text = axb.text(1, 0, "", ha="center", va="center", color="w", fontsize=9,
                                   multialignment="left")
        self._gap_text = axb.text(1.35, 0, "", ha="left", va="center", color=RED, fontsize=9)
        axb.set_xlim(-0.5, 2.2)
        axb.set_ylim(self.floor, top)
        axb.set_xticks([0, 1], ["log p(x)", "ELBO + gap"])
        axb.set_ylabel(f"nats (axis starts at {self.floor:g})")
        axb.set_title("log p(x) = ELBO + KL(q ‖ p(z|x))", fontsize=10)
        return [self._elbo_bar, self._gap_bar, self._elbo_text, self._gap_text]

    # ---- rendering ---------------------------------------------------------------------------------------
    def _update_artists(self, mean, log_sigma, elbo, gap):
        """Move q's artists and the bars to the new state."""
        if self.k == 1:
            q = D.Normal(mean[0], math.exp(log_sigma[0])).log_prob(self._zg).exp()
            self._q_line.set_data(self._zg.numpy(), q.numpy())
        else:
            sd = np.exp(log_sigma)
            for k, line in zip((1, 2), self._q_lines, strict=True):
                pts = plots.ellipse_points(mean, k * sd)
                line.set_data(pts[:, 0], pts[:, 1])
            self._q_centre.set_data([mean[0]], [mean[1]])
        lp, low = self.log_px, max(elbo, self.floor)
        self._elbo_bar.set_height(low - self.floor)
        self._gap_bar.set_y(low)
        self._gap_bar.set_height(lp - low)
        if elbo > self.floor + 0.12 * (lp - self.floor):
            self._elbo_text.set_text(f"ELBO\n{elbo:.2f}")
            self._elbo_text.set_position((1, (low + self.floor) / 2))
            self._elbo_text.set_color("w")
            self._elbo_text.set_ha("center")
            self._elbo_text.set_va("center")
        else:  # a short (or clipped) ELBO bar: label it beside the column, in the bar's colour
            self._elbo_text.set_text(f"ELBO\n{elbo:.2f}" + ("\n(below axis)" if elbo < self.floor else ""))
            self._elbo_text.set_position((1.35, self.floor + 0.02 * (lp - self.floor)))
            self._elbo_text.set_color(BLUE)
            self._elbo_text.set_ha("left")
            self._elbo_text.set_va("bottom")
        self._gap_text.set_text(f"gap\n{gap:.3f}")
        self._gap_text.set_position((1.35, (low + lp) / 2))

    def _render(self, force=False):
        """Redraw if the snapped slider state changed (idempotent)."""
        mean, log_sigma = self.state()
        if not force and (mean, log_sigma) == self._shown:
            return
        self._shown = (mean, log_sigma)
        with single_thread():
            log_px, elbo, gap = self.terms(mean, log_sigma)
        # the readout first: its message leaves the kernel before the panel is even drawn (about 1 ms vs 10 ms)
        self.readout_html.value = readout_text(log_px, elbo, gap)
        with single_thread():
            self._update_artists(mean, log_sigma, elbo, gap)
        self.image.value = plots.png_bytes(self._blit.rgb())

    def _on_slider(self, change):
        if not self._hold:
            self._render()

    def set_q(self, mean, log_sigma):
        """Move q to mean [k], log σ [k] (snapped to the slider grid) and redraw once."""
        self._hold = True
        try:
            for s, v in zip(self.mean_sliders, np.atleast_1d(mean), strict=True):
                s.value = snap(v, lo=s.min, hi=s.max)
            for s, v in zip(self.log_sigma_sliders, np.atleast_1d(log_sigma), strict=True):
                s.value = snap(v, lo=s.min, hi=s.max)
        finally:
            self._hold = False
        self._render()

    # ---- fitting -----------------------------------------------------------------------------------------
    def fit_q(self, steps=300, lr=0.05, n_samples=16, every=20):
        """Adam on the reparameterised ELBO (eq. 7) from q at the sliders, moving them every `every` steps.

        Returns the exact ELBO after each update (the first entry is the starting value); fixed generator."""
        mean, log_sigma = self.state()
        params = torch.tensor([*mean, *log_sigma], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([params], lr=lr)
        gen = torch.Generator().manual_seed(self.seed)
        x, prior = self.x, self.model.prior()
        lo = torch.tensor([s.min for s in self.sliders], dtype=torch.float64)
        hi = torch.tensor([s.max for s in self.sliders], dtype=torch.float64)
        trace = [self.readout()["elbo"]]
        for step in range(1, steps + 1):
            with single_thread():
                q = D.Independent(D.Normal(params[None, : self.k], params[None, self.k:].exp()), 1)
                loss = -bounds.elbo(x, q, prior, self.model.likelihood, n_samples, True, gen).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                params.copy_(torch.maximum(torch.minimum(params, hi), lo))
            if step % every == 0 or step == steps:
                p = params.detach().numpy()
                self.set_q(p[: self.k], p[self.k:])
                trace.append(self.readout()["elbo"])
        return trace

    def _on_fit(self, _):
        self.fit_button.disabled = True
        try:
            self.fit_q()
        finally:
            self.fit_button.disabled = False


# ---------------------------------------------------------------------------------------------------------
# GradientExplorer
# ---------------------------------------------------------------------------------------------------------
def true_gradient(f, mu, sigma):
    """(d/dmu, d/dsigma) of E_{N(mu, sigma^2)}[f(z)] by 80-node Gauss–Hermite quadrature and autograd: -> floats."""
    p = torch.tensor([mu, sigma], dtype=torch.float64, requires_grad=True)
    z = p[0] + math.sqrt(2.0) * p[1] * torch.as_tensor(_GH_T)
    value = (torch.as_tensor(_GH_W / math.sqrt(math.pi)) * f(z)).sum()
    (g,) = torch.autograd.grad(value, p)
    return float(g[0]), float(g[1])


class GradientExplorer(Displayable):
    """μ, σ sliders -> histograms of per-sample d/dμ estimates, reparameterisation vs score function (AEVB §2.4)."""

    def __init__(self, f=None, n=2000, mu=1.0, sigma=1.0, f_name=None, bins=50, seed=0):
        if f is not None and not callable(f):
            raise ValueError(f"f must be a callable tensor -> tensor (elementwise), got {type(f).__name__}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ValueError(f"n must be an int >= 2, got {n!r}")
        self.f = toy.square if f is None else f
        self.f_name = f_name or ("z²" if f is None else getattr(f, "__name__", "f"))
        self.n, self.bins, self.seed = n, bins, seed
        self.mu_slider = W.FloatSlider(value=snap(mu, lo=-3, hi=3), min=-3.0, max=3.0, step=STEP, description="μ",
                                       readout_format=".2f")
        self.sigma_slider = W.FloatSlider(value=snap(sigma, lo=0.1, hi=3), min=0.1, max=3.0, step=STEP,
                                          description="σ", readout_format=".2f")
        self.mu_slider.add_class("vae-grad-mu")
        self.sigma_slider.add_class("vae-grad-sigma")
        self.sliders = [self.mu_slider, self.sigma_slider]
        for s in self.sliders:
            s.observe(self._on_slider, names="value")
        self.image = W.Image(format="png")
        self.readout_html = W.HTML()
        self.readout_html.add_class("vae-grad-readout")
        self.widget = W.VBox([W.HBox(self.sliders), self.image, self.readout_html])
        self.widget.add_class("vae-gradient-explorer")
        self._build_figure()
        self._shown = None
        self._render()

    def _build_figure(self):
        """Persistent figure, one histogram panel per estimator; frames cached per x range (see nice_range)."""
        fig = plots.new_figure(9.0, 3.3)
        self.axes = fig.subplots(1, 2)
        self._stairs, self._true, self._mean, self._var_text = [], [], [], []
        titles = ("reparameterisation (pathwise)", "score function (REINFORCE)")
        for ax, colour, title in zip(self.axes, (BLUE, "#ff7f0e"), titles, strict=True):
            self._stairs.append(ax.stairs(np.zeros(self.bins), np.arange(self.bins + 1.0), fill=True, color=colour,
                                          alpha=0.8))
            self._true.append(ax.axvline(0, color="k", lw=2, label="true gradient"))
            self._mean.append(ax.axvline(0, color=RED, lw=1.5, ls="--", label="mean of the samples"))
            ax.set_xlabel(f"per-sample estimate of d/dμ E[{self.f_name}]")
            ax.set_ylabel("relative frequency")
            ax.set_yticks([])
            ax.set_title(title, fontsize=10)
            self._var_text.append(ax.text(0.97, 0.93, "", transform=ax.transAxes, ha="right", va="top", fontsize=10))
        fig.legend(handles=[self._true[0], self._mean[0]], loc="upper center", ncol=2, fontsize=9, frameon=False)
        fig.tight_layout(pad=0.6, rect=(0, 0, 1, 0.92))
        self._blit = Blitter(fig, [*self._stairs, *self._true, *self._mean, *self._var_text])

    def samples(self, mu, sigma):
        """Per-sample d/dμ estimates [n] for ("reparam", "score"), same ε for both (fixed generator)."""
        out = []
        for method in gradients.METHODS:
            g = torch.Generator().manual_seed(self.seed)
            out.append(gradients.grad_samples(self.f, mu, sigma, self.n, method, generator=g)[0].detach().numpy())
        return out

    def _render(self):
        """Redraw the histograms if (μ, σ) changed on the grid (idempotent)."""
        mu, sigma = snap(self.mu_slider.value), snap(self.sigma_slider.value)
        if (mu, sigma) == self._shown:
            return
        self._shown = (mu, sigma)
        with single_thread():
            est = self.samples(mu, sigma)
            true = true_gradient(self.f, mu, sigma)[0]
        lo = min(np.percentile(e, 0.5) for e in est)
        hi = max(np.percentile(e, 99.5) for e in est)
        lo, hi = nice_range(min(lo, true), max(hi, true))
        edges = np.linspace(lo, hi, self.bins + 1)
        parts = []
        for k, (name, e) in enumerate(zip(("reparameterisation", "score function"), est, strict=True)):
            dens, _ = np.histogram(e, bins=edges, density=True)
            self._stairs[k].set_data(dens / (1.15 * max(dens.max(), 1e-12)), edges)
            self._true[k].set_xdata([true, true])
            self._mean[k].set_xdata([e.mean(), e.mean()])
            self._var_text[k].set_text(f"sample variance\n{e.var(ddof=1):.3g}")
            parts.append(f"{name}: mean {e.mean():.3f}, variance {e.var(ddof=1):.3g}")

        def prepare():
            for ax in self.axes:
                ax.set_xlim(lo, hi)
                ax.set_ylim(0, 1)

        self.image.value = plots.png_bytes(self._blit.rgb((lo, hi), prepare))
        ratio = est[1].var(ddof=1) / max(est[0].var(ddof=1), 1e-300)
        self.readout_html.value = (f"<span style='font-family:monospace'>true d/dμ = {true:.3f} · "
                                   + " · ".join(parts) + f" · variance ratio score/reparam = {ratio:.3g}</span>")

    def _on_slider(self, change):
        self._render()
