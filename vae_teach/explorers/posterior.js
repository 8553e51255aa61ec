// PosteriorExplorer: q against the true posterior; log p(x) = ELBO + gap computed here on every tick.

const LOG_2PI = Math.log(2 * Math.PI);

/** 1-D: trapezoid sums over the tabulated log p(x, z) (z = z0 + j dz): -> {log_px, elbo, gap} (eq. 2-3). */
function terms1d(lj, z0, dz, m, logS) {
  const n = lj.length, s = Math.exp(logS);
  const w = j => (j === 0 || j === n - 1 ? 0.5 : 1);
  const lw = new Float64Array(n);
  for (let j = 0; j < n; j++) lw[j] = lj[j] + Math.log(w(j));
  const logPx = logSumExp(lw) + Math.log(dz);  // log ∫ p(x, z) dz
  let elbo = 0;
  for (let j = 0; j < n; j++) {
    const u = (z0 + j * dz - m) / s, logQ = -0.5 * u * u - logS - 0.5 * LOG_2PI;
    const q = Math.exp(logQ);
    if (q > 0) elbo += w(j) * q * (lj[j] - logQ);  // E_q[log p(x, z) - log q(z)]
  }
  elbo *= dz;
  return {log_px: logPx, elbo, gap: logPx - elbo};
}

/** 2-D linear-Gaussian: closed forms of E_q[log p(x|z)], KL(q || p(z)) and KL(q || p(z|x)) for diagonal q. */
function terms2d(lin, x, logPx, m, logS) {
  const {W, b, sigma, post_mean: pm, post_cov: P} = lin, d = W.length, v = sigma * sigma;
  const s2 = logS.map(l => Math.exp(2 * l));
  let sq = 0;
  for (let i = 0; i < d; i++) {
    const r = x[i] - (W[i][0] * m[0] + W[i][1] * m[1] + b[i]);
    sq += r * r + W[i][0] * W[i][0] * s2[0] + W[i][1] * W[i][1] * s2[1];
  }
  const expLL = -0.5 * d * Math.log(2 * Math.PI * v) - sq / (2 * v);
  const klPrior = 0.5 * [0, 1].reduce((t, j) => t + s2[j] + m[j] * m[j] - 1 - 2 * logS[j], 0);
  const elbo = expLL - klPrior;  // eq. 7
  const det = P[0][0] * P[1][1] - P[0][1] * P[1][0];
  const Pi = [[P[1][1] / det, -P[0][1] / det], [-P[1][0] / det, P[0][0] / det]];
  const dm = [pm[0] - m[0], pm[1] - m[1]];
  const tr = Pi[0][0] * s2[0] + Pi[1][1] * s2[1];
  const quad = dm[0] * (Pi[0][0] * dm[0] + Pi[0][1] * dm[1]) + dm[1] * (Pi[1][0] * dm[0] + Pi[1][1] * dm[1]);
  const gap = 0.5 * (tr + quad - 2 + Math.log(det) - 2 * (logS[0] + logS[1]));
  return {log_px: logPx, elbo, gap};
}

function render({model, el}) {
  const get = k => model.get(k);
  const k = get("k"), win = get("window"), [lsLo, lsHi] = get("log_sigma_range"), floor = get("floor");
  const x = get("x_value"), lin = get("linear");
  const lj = k === 1 ? typed(get("log_joint"), Float64Array) : null;
  const [z0, dz] = k === 1 ? get("grid") : [0, 0];
  const root = explorerRoot(el, "PosteriorExplorer", "vae-posterior-explorer");
  const terms = (m, ls) => (k === 1 ? terms1d(lj, z0, dz, m[0], ls[0]) : terms2d(lin, x, get("log_px_python"), m, ls));
  const logPx = terms(get("mean"), get("log_sigma")).log_px;

  const W_ = 740, H_ = 290;
  const {canvas, ctx} = hiDpiCanvas(W_, H_, "vae-posterior-panel");
  const readout = h("div", {class: "vae-posterior-readout vae-mono"});
  const names = k === 1 ? ["z"] : ["z[0]", "z[1]"];
  const setQ = () => { model.save_changes(); update(); };
  const meanSliders = names.map((nm, i) => slider({label: `q mean ${nm}`, min: win[i][0], max: win[i][1],
    value: get("mean")[i], cls: "vae-q-mean",
    onInput: v => { const a = get("mean").slice(); a[i] = v; model.set("mean", a); setQ(); }}));
  const sigmaSliders = names.map((nm, i) => slider({label: `q log σ ${nm}`, min: lsLo, max: lsHi,
    value: get("log_sigma")[i], cls: "vae-q-logsigma",
    onInput: v => { const a = get("log_sigma").slice(); a[i] = v; model.set("log_sigma", a); setQ(); }}));
  const fitBtn = h("button", {class: "vae-fit", text: "▶ fit q", title: "gradient ascent on the ELBO"});
  const note = h("div", {class: "vae-note vae-message"});
  fitBtn.addEventListener("click", () => {
    if (get("_static")) return fitHere();
    model.set("fit_requests", get("fit_requests") + 1); model.save_changes();
  });
  root.append(h("div", {class: "vae-col"}, [canvas, readout,
    h("div", {class: "vae-row"}, [h("div", {class: "vae-col"}, [...meanSliders, ...sigmaSliders].map(s => s.wrap)),
                                  h("div", {class: "vae-col"}, [fitBtn, note])])]));

  // ---- the static part of the density panel, drawn once
  const BOX = k === 1 ? {x: 58, y: 28, w: 400, h: 210} : {x: 58, y: 28, w: 220, h: 220};
  const BARS = {x: 540, y: 28, w: 170, h: 210};
  const bg = hiDpiCanvas(W_, H_, "");
  const top = logPx + 0.14 * (logPx - floor);
  let map, postMax = 1;
  const bctx = bg.ctx;
  bctx.fillStyle = "#fff"; bctx.fillRect(0, 0, W_, H_);
  if (k === 1) {
    const n = lj.length, lo = win[0][0], hi = win[0][1], xs = [], ys = [];
    for (let j = 0; j < n; j++) {
      const z = z0 + j * dz;
      if (z < lo - 1e-9 || z > hi + 1e-9) continue;
      xs.push(z); ys.push(Math.exp(lj[j] - logPx));
    }
    postMax = Math.max(...ys);
    map = axes(bctx, BOX, [lo, hi], [0, 2.3 * postMax], {xlabel: "z", ylabel: "density",
      title: `true posterior and q, for x = ${x[0].toFixed(2)}`});
    bctx.save(); clipTo(bctx, BOX);
    bctx.fillStyle = "rgba(127,127,127,0.35)"; bctx.beginPath(); bctx.moveTo(map.X(xs[0]), map.Y(0));
    xs.forEach((z, i) => bctx.lineTo(map.X(z), map.Y(ys[i]))); bctx.lineTo(map.X(xs[xs.length - 1]), map.Y(0)); bctx.fill();
    polyline(bctx, map, xs, ys, {strokeStyle: "#000", lineWidth: 1.2});
    bctx.restore();
    legend(bctx, BOX.x + 8, BOX.y + 12, [{colour: "#000", label: "true posterior p(z|x)", width: 1.2},
                                         {colour: BLUE, label: "q(z) = N(mean, σ²)"}]);
  } else {
    map = axes(bctx, BOX, win[0], win[1], {xlabel: "z[0]", ylabel: "z[1]", title: "true posterior (contours) and diagonal q"});
    const {post_mean: pm, post_cov: P} = lin, det = P[0][0] * P[1][1] - P[0][1] * P[1][0];
    const Pi = [[P[1][1] / det, -P[0][1] / det], [-P[1][0] / det, P[0][0] / det]];
    // shade: exp(-Mahalanobis² / 2), cell by cell
    bctx.save(); clipTo(bctx, BOX);
    const cells = 80;
    for (let a = 0; a < cells; a++) for (let c = 0; c < cells; c++) {
      const z = [win[0][0] + (a + 0.5) / cells * (win[0][1] - win[0][0]), win[1][0] + (c + 0.5) / cells * (win[1][1] - win[1][0])];
      const d0 = z[0] - pm[0], d1 = z[1] - pm[1];
      const q = d0 * (Pi[0][0] * d0 + Pi[0][1] * d1) + d1 * (Pi[1][0] * d0 + Pi[1][1] * d1);
      const g = Math.round(255 - 150 * Math.exp(-0.5 * q));
      bctx.fillStyle = `rgb(${g},${g},${g})`;
      bctx.fillRect(BOX.x + a * BOX.w / cells, BOX.y + BOX.h - (c + 1) * BOX.h / cells, BOX.w / cells + 0.5, BOX.h / cells + 0.5);
    }
    // 1σ / 2σ contours of the posterior: rotated ellipses from the eigen-decomposition of its covariance
    const tr = P[0][0] + P[1][1], disc = Math.sqrt(Math.max(tr * tr / 4 - det, 0));
    const l1 = tr / 2 + disc, l2 = tr / 2 - disc, angle = Math.atan2(l1 - P[0][0], P[0][1] || 1e-300);
    const sx = BOX.w / (win[0][1] - win[0][0]), sy = BOX.h / (win[1][1] - win[1][0]);
    bctx.strokeStyle = "#000"; bctx.lineWidth = 1;
    for (const r of [1, 2]) {
      bctx.save(); bctx.translate(map.X(pm[0]), map.Y(pm[1])); bctx.scale(sx, -sy); bctx.rotate(angle);
      bctx.beginPath(); bctx.ellipse(0, 0, r * Math.sqrt(l1), r * Math.sqrt(Math.max(l2, 0)), 0, 0, 2 * Math.PI);
      bctx.restore(); bctx.stroke();
    }
    bctx.restore();
    bctx.strokeStyle = "#222"; bctx.strokeRect(BOX.x + 0.5, BOX.y + 0.5, BOX.w, BOX.h);
    legend(bctx, BOX.x + BOX.w + 14, BOX.y + 12, [{colour: "#000", label: "true p(z|x), 1σ/2σ", width: 1},
                                                  {colour: BLUE, label: "q, 1σ/2σ"}]);
  }
  // bars: log p(x) (fixed) and ELBO + gap (moving)
  const bars = axes(bctx, BARS, [-0.5, 2.3], [floor, top], {title: "log p(x) = ELBO + KL(q ‖ p(z|x))", xticks: false,
    ylabel: `nats (axis starts at ${floor})`});
  bctx.fillStyle = GREY; bctx.fillRect(bars.X(-0.3), bars.Y(logPx), bars.X(0.3) - bars.X(-0.3), bars.Y(floor) - bars.Y(logPx));
  bctx.fillStyle = "#fff"; bctx.font = "10px sans-serif"; bctx.textAlign = "center"; bctx.textBaseline = "middle";
  bctx.fillText("log p(x)", bars.X(0), bars.Y((logPx + floor) / 2) - 7);
  bctx.fillText(logPx.toFixed(2), bars.X(0), bars.Y((logPx + floor) / 2) + 7);
  bctx.fillStyle = "#222"; bctx.textBaseline = "top";
  bctx.fillText("log p(x)", bars.X(0), BARS.y + BARS.h + 6); bctx.fillText("ELBO + gap", bars.X(1), BARS.y + BARS.h + 6);
  bctx.setLineDash([4, 3]); bctx.strokeStyle = "#000";
  bctx.beginPath(); bctx.moveTo(BARS.x, bars.Y(logPx)); bctx.lineTo(BARS.x + BARS.w, bars.Y(logPx)); bctx.stroke();
  bctx.setLineDash([]);

  // ---- per tick
  let shown = null;
  function draw(m, ls, t) {
    ctx.drawImage(bg.canvas, 0, 0, W_, H_);
    ctx.save(); clipTo(ctx, BOX);
    if (k === 1) {
      const lo = win[0][0], hi = win[0][1], xs = [], ys = [], s = Math.exp(ls[0]);
      for (let i = 0; i <= 500; i++) {
        const z = lo + (hi - lo) * i / 500, u = (z - m[0]) / s;
        xs.push(z); ys.push(Math.exp(-0.5 * u * u) / (s * Math.sqrt(2 * Math.PI)));
      }
      polyline(ctx, map, xs, ys, {strokeStyle: BLUE, lineWidth: 2.2});
    } else {
      const s = ls.map(Math.exp);
      ellipse(ctx, map, m, s, {strokeStyle: BLUE, lineWidth: 2.2});
      ellipse(ctx, map, m, [2 * s[0], 2 * s[1]], {strokeStyle: BLUE, lineWidth: 1.2});
      ctx.fillStyle = BLUE; ctx.beginPath(); ctx.arc(map.X(m[0]), map.Y(m[1]), 3.5, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.restore();
    const low = Math.max(t.elbo, floor), bx = bars.X(0.7), bw = bars.X(1.3) - bars.X(0.7);
    ctx.fillStyle = BLUE; ctx.fillRect(bx, bars.Y(low), bw, bars.Y(floor) - bars.Y(low));
    ctx.fillStyle = RED; ctx.fillRect(bx, bars.Y(logPx), bw, bars.Y(low) - bars.Y(logPx));
    ctx.font = "10px sans-serif"; ctx.textBaseline = "middle";
    if (t.elbo > floor + 0.12 * (logPx - floor)) {
      ctx.fillStyle = "#fff"; ctx.textAlign = "center";
      ctx.fillText("ELBO", bars.X(1), bars.Y((low + floor) / 2) - 7);
      ctx.fillText(t.elbo.toFixed(2), bars.X(1), bars.Y((low + floor) / 2) + 7);
    } else {
      ctx.fillStyle = BLUE; ctx.textAlign = "left";  // a short or clipped ELBO bar: its label beside the column
      const lines = ["ELBO", t.elbo.toFixed(2), ...(t.elbo < floor ? ["(below axis)"] : [])];
      lines.forEach((ln, k) => ctx.fillText(ln, bars.X(1.35), bars.Y(floor) - 8 - 13 * (lines.length - 1 - k)));
    }
    ctx.fillStyle = RED; ctx.textAlign = "left";
    ctx.fillText("gap", bars.X(1.35), bars.Y((low + logPx) / 2) - 7);
    ctx.fillText(t.gap.toFixed(3), bars.X(1.35), bars.Y((low + logPx) / 2) + 7);
  }

  function update() {
    const m = get("mean"), ls = get("log_sigma");
    meanSliders.forEach((s, i) => s.set(m[i]));
    sigmaSliders.forEach((s, i) => s.set(ls[i]));
    fitBtn.disabled = !!get("fitting");
    note.textContent = get("message") || "";
    const key = m.join(",") + "|" + ls.join(",");
    if (key === shown) return;
    shown = key;
    const t = terms(m, ls);
    readout.textContent = `log p(x) = ${t.log_px.toFixed(3)} nats   ELBO = ${t.elbo.toFixed(3)} nats   ` +
                          `gap KL(q‖p(z|x)) = ${t.gap.toFixed(3)} nats`;
    draw(m, ls, t);
    publish(root, {mean: m.slice(), log_sigma: ls.slice(), ...t});
  }

  // No kernel (static page): gradient ascent on the exact ELBO above, central differences, Adam, 300 steps.
  function fitHere() {
    const p = [...get("mean"), ...get("log_sigma")], lo = [...win.map(w => w[0]), ...names.map(() => lsLo)];
    const hi = [...win.map(w => w[1]), ...names.map(() => lsHi)], mom = p.map(() => 0), vel = p.map(() => 0);
    const f = q => terms(q.slice(0, k), q.slice(k)).elbo;
    fitBtn.disabled = true;
    let step = 0;
    const tick = () => {
      for (let r = 0; r < 20 && step < 300; r++, step++) {
        const g = p.map((_, i) => { const a = p.slice(), b = p.slice(); a[i] += 1e-4; b[i] -= 1e-4; return (f(a) - f(b)) / 2e-4; });
        g.forEach((gi, i) => {
          mom[i] = 0.9 * mom[i] + 0.1 * gi; vel[i] = 0.999 * vel[i] + 0.001 * gi * gi;
          const mh = mom[i] / (1 - 0.9 ** (step + 1)), vh = vel[i] / (1 - 0.999 ** (step + 1));
          p[i] = Math.min(Math.max(p[i] + 0.05 * mh / (Math.sqrt(vh) + 1e-8), lo[i]), hi[i]);
        });
      }
      model.set("mean", p.slice(0, k).map((v, i) => snap(v, win[i][0], win[i][1])));
      model.set("log_sigma", p.slice(k).map(v => snap(v, lsLo, lsHi)));
      update();
      if (step < 300) requestAnimationFrame(tick); else fitBtn.disabled = false;
    };
    tick();
  }

  const offs = [onChange(model, ["mean", "log_sigma", "fitting", "message"], update)];
  update();
  return () => offs.forEach(off => off());
}

export default {render};
