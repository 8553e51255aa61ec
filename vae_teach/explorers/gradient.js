// GradientExplorer: the two one-sample estimators of d/dμ E[f(z)], z = μ + σ ε, sampled here on every tick.

/** Cubic Hermite interpolation of a tabulated function (values v, derivatives d) at z: grid z0 + j dz. */
function hermite(v, d, z0, dz, z) {
  const u = Math.min(Math.max((z - z0) / dz, 0), v.length - 1);  // never extrapolate past the table
  const j = Math.min(Math.floor(u), v.length - 2), t = u - j;
  const t2 = t * t, t3 = t2 * t;
  return (2 * t3 - 3 * t2 + 1) * v[j] + (t3 - 2 * t2 + t) * dz * d[j] + (-2 * t3 + 3 * t2) * v[j + 1] +
         (t3 - t2) * dz * d[j + 1];
}

function meanVar(a) {
  let m = 0;
  for (const v of a) m += v;
  m /= a.length;
  let s = 0;
  for (const v of a) s += (v - m) * (v - m);
  return [m, s / (a.length - 1)];
}

function quantile(sorted, p) {
  const i = (sorted.length - 1) * p, lo = Math.floor(i), hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/** Widen [lo, hi] to multiples of a 1-2-5 unit (as Python's nice_range), so the axes change rarely. */
function niceRange(lo, hi) {
  const span = Math.max(hi - lo, 1e-6);
  let unit = Math.pow(10, Math.floor(Math.log10(span)));
  for (const m of [0.2, 0.5, 1.0]) if (span / (unit * m) <= 10) { unit *= m; break; }
  return [Math.floor(lo / unit) * unit, Math.ceil(hi / unit) * unit];
}

function render({model, el}) {
  const get = k => model.get(k);
  const eps = typed(get("eps"), Float64Array), tab = typed(get("table"), Float64Array);
  const [z0, dz, m] = get("table_grid"), M = Math.round(m);
  const f = tab.subarray(0, M), f1 = tab.subarray(M, 2 * M), f2 = tab.subarray(2 * M, 3 * M);
  const [ghT, ghW] = get("gh"), bins = get("bins"), name = get("f_name");
  const [muLo, muHi] = get("mu_range"), [sLo, sHi] = get("sigma_range");
  const root = explorerRoot(el, "GradientExplorer", "vae-gradient-explorer");
  const send = () => { model.save_changes(); update(); };
  const muS = slider({label: "μ", min: muLo, max: muHi, value: get("mu"), cls: "vae-grad-mu",
                      onInput: v => { model.set("mu", v); send(); }});
  const sS = slider({label: "σ", min: sLo, max: sHi, value: get("sigma"), cls: "vae-grad-sigma",
                     onInput: v => { model.set("sigma", v); send(); }});
  const W_ = 760, H_ = 270;
  const {canvas, ctx} = hiDpiCanvas(W_, H_, "vae-grad-panel");
  const readout = h("div", {class: "vae-grad-readout vae-mono"});
  root.append(h("div", {class: "vae-col"}, [h("div", {class: "vae-row"}, [muS.wrap, sS.wrap]), canvas, readout]));
  const BOXES = [{x: 30, y: 46, w: 330, h: 170}, {x: 410, y: 46, w: 330, h: 170}];
  const TITLES = ["reparameterisation (pathwise)", "score function (REINFORCE)"], COLOURS = [BLUE, ORANGE];

  function estimate(mu, sigma) {
    const n = eps.length, rep = new Float64Array(n), sco = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const z = mu + sigma * eps[i];
      rep[i] = hermite(f1, f2, z0, dz, z);  // f'(z): the pathwise estimate of d/dμ
      sco[i] = hermite(f, f1, z0, dz, z) * eps[i] / sigma;  // f(z) ∇_μ log N(z; μ, σ²)
    }
    let g = 0;
    for (let j = 0; j < ghT.length; j++) g += ghW[j] * hermite(f1, f2, z0, dz, mu + sigma * ghT[j]);
    return {rep, sco, trueGrad: g};
  }

  let shown = null;
  function update() {
    const mu = get("mu"), sigma = get("sigma");
    muS.set(mu); sS.set(sigma);
    const key = `${mu},${sigma}`;
    if (key === shown) return;
    shown = key;
    const {rep, sco, trueGrad} = estimate(mu, sigma);
    const stats = [meanVar(rep), meanVar(sco)];
    const sorted = [rep, sco].map(a => Float64Array.from(a).sort());
    let lo = Math.min(...sorted.map(s => quantile(s, 0.005))), hi = Math.max(...sorted.map(s => quantile(s, 0.995)));
    [lo, hi] = niceRange(Math.min(lo, trueGrad), Math.max(hi, trueGrad));
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W_, H_);
    [rep, sco].forEach((a, p) => {
      const counts = new Float64Array(bins), w = (hi - lo) / bins;
      for (const v of a) { const b = Math.floor((v - lo) / w); if (b >= 0 && b < bins) counts[b]++; else if (v === hi) counts[bins - 1]++; }
      const top = Math.max(...counts) * 1.15 || 1;
      const map = axes(ctx, BOXES[p], [lo, hi], [0, 1], {xlabel: `per-sample estimate of d/dμ E[${name}]`,
        title: TITLES[p], yticks: false});
      ctx.save(); clipTo(ctx, BOXES[p]);
      ctx.fillStyle = COLOURS[p]; ctx.globalAlpha = 0.8;
      counts.forEach((c, b) => { const x0 = map.X(lo + b * w), x1 = map.X(lo + (b + 1) * w);
        ctx.fillRect(x0, map.Y(c / top), Math.max(x1 - x0 - 0.5, 0.5), map.Y(0) - map.Y(c / top)); });
      ctx.globalAlpha = 1;
      polyline(ctx, map, [trueGrad, trueGrad], [0, 1], {strokeStyle: "#000", lineWidth: 2});
      ctx.setLineDash([5, 3]);
      polyline(ctx, map, [stats[p][0], stats[p][0]], [0, 1], {strokeStyle: RED, lineWidth: 1.5});
      ctx.setLineDash([]);
      ctx.restore();
      ctx.fillStyle = "#222"; ctx.font = "11px sans-serif"; ctx.textAlign = "right"; ctx.textBaseline = "top";
      ctx.fillText("sample variance", BOXES[p].x + BOXES[p].w - 6, BOXES[p].y + 6);
      ctx.fillText(stats[p][1].toPrecision(3), BOXES[p].x + BOXES[p].w - 6, BOXES[p].y + 20);
    });
    legend(ctx, 260, 12, [{colour: "#000", label: "true gradient"}]);
    legend(ctx, 400, 12, [{colour: RED, label: "mean of the samples"}]);
    const ratio = stats[1][1] / Math.max(stats[0][1], 1e-300);
    readout.textContent = `true d/dμ = ${trueGrad.toFixed(3)} · reparameterisation: mean ${stats[0][0].toFixed(3)}, ` +
      `variance ${stats[0][1].toPrecision(3)} · score function: mean ${stats[1][0].toFixed(3)}, variance ` +
      `${stats[1][1].toPrecision(3)} · variance ratio score/reparam = ${ratio.toPrecision(3)}`;
    publish(root, {mu, sigma, true: trueGrad, reparam_mean: stats[0][0], reparam_var: stats[0][1],
                   score_mean: stats[1][0], score_var: stats[1][1]});
  }

  const offs = [onChange(model, ["mu", "sigma"], update)];
  update();
  return () => offs.forEach(off => off());
}

export default {render};
