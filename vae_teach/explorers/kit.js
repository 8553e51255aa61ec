// Shared helpers of the explorers. Python puts this file in front of each explorer's own code, so the result
// is one ES module; it talks to its model only through get / set / on / save_changes (a static page hosts it
// with a small stand-in for the widget model).

const STEP = 0.01;
const BLUE = "#1f77b4", RED = "#d62728", GREY = "#7f7f7f", ORANGE = "#ff7f0e";
const LABEL_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                       "#bcbd22", "#17becf"];

/** Round v onto the slider grid {k * step} and clip it to [lo, hi] (as Python's snap). */
function snap(v, lo = -Infinity, hi = Infinity, step = STEP) {
  const s = Math.round(Math.round(v / step) * step * 1e10) / 1e10;
  return Math.min(Math.max(s, lo), hi) + 0;  // + 0 turns -0 into 0
}

/** A bytes trait (DataView, ArrayBuffer or typed array) as a typed array; copied when misaligned. */
function typed(value, Type = Float32Array) {
  if (!value) return new Type(0);
  const buf = value.buffer || value, off = value.byteOffset || 0;
  const len = value.byteLength;
  if (off % Type.BYTES_PER_ELEMENT === 0) return new Type(buf, off, len / Type.BYTES_PER_ELEMENT);
  return new Type(buf.slice(off, off + len));
}

/** document.createElement with attributes, properties and children. */
function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "style") el.style.cssText = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  for (const c of [].concat(children)) if (c != null) el.append(c);
  return el;
}

/** A labelled range input with a readout; onInput(value) fires on every move (keys, drags). */
function slider({label, min, max, step = STEP, value, cls = "", digits = 2, onInput}) {
  const input = h("input", {type: "range", min, max, step, class: cls, "aria-label": label});
  input.value = value;
  const readout = h("span", {class: "vae-readout", text: Number(value).toFixed(digits)});
  const wrap = h("label", {class: "vae-slider"}, [h("span", {class: "vae-label", text: label}), input, readout]);
  const show = v => { input.value = v; readout.textContent = Number(v).toFixed(digits); };
  input.addEventListener("input", () => { const v = snap(Number(input.value), min, max, step); show(v); onInput(v); });
  return {wrap, input, readout, set: show, get value() { return snap(Number(input.value), min, max, step); }};
}

/** The explorer's root: arrow keys stay inside (JupyterLab would move the cell focus otherwise). */
function explorerRoot(el, name, cls) {
  const root = h("div", {class: `vae-explorer ${cls}`, "data-explorer-view": name});
  for (const type of ["keydown", "keyup", "keypress"]) root.addEventListener(type, e => e.stopPropagation());
  el.append(root);
  return root;
}

/** Publish what the explorer shows (pixels, readouts) on its root, for tests and the static-site check. */
function publish(root, values) { root.setAttribute("data-values", JSON.stringify(values)); }

/** A canvas of CSS size w x h drawn at the device pixel ratio; -> its 2-D context, scaled to CSS pixels. */
function hiDpiCanvas(w, h_, cls) {
  const c = h("canvas", {class: cls});
  const r = Math.max(1, Math.round(window.devicePixelRatio || 1));
  c.width = w * r; c.height = h_ * r; c.style.width = w + "px"; c.style.height = h_ + "px";
  const ctx = c.getContext("2d");
  ctx.scale(r, r);
  return {canvas: c, ctx};
}

/** About n round tick values covering [lo, hi] (1-2-5 steps). */
function ticks(lo, hi, n = 5) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const unit = [1, 2, 5, 10].map(m => m * mag).find(u => u >= raw) || raw;
  const out = [];
  for (let t = Math.ceil(lo / unit) * unit; t <= hi + 1e-9 * span; t += unit) out.push(Math.abs(t) < 1e-12 ? 0 : t);
  return out;
}

function fmtTick(t) { return Math.abs(t) >= 1000 || (Math.abs(t) < 0.01 && t !== 0) ? t.toExponential(0) : String(+t.toFixed(3)); }

/** Axes on ctx in box {x, y, w, h} (CSS px) for data limits xlim, ylim: frame, ticks, labels, title;
 *  -> {X, Y} data -> px maps and the box. */
function axes(ctx, box, xlim, ylim, {xlabel = "", ylabel = "", title = "", xticks = true, yticks = true, grid = false} = {}) {
  const X = v => box.x + (v - xlim[0]) / (xlim[1] - xlim[0]) * box.w;
  const Y = v => box.y + box.h - (v - ylim[0]) / (ylim[1] - ylim[0]) * box.h;
  ctx.save();
  ctx.font = "11px sans-serif"; ctx.fillStyle = "#222"; ctx.strokeStyle = "#222"; ctx.lineWidth = 1;
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const t of xticks ? ticks(xlim[0], xlim[1], Math.max(3, Math.floor(box.w / 60))) : []) {
    const x = X(t);
    if (grid) { ctx.save(); ctx.strokeStyle = "#e4e4e4"; ctx.beginPath(); ctx.moveTo(x, box.y); ctx.lineTo(x, box.y + box.h); ctx.stroke(); ctx.restore(); }
    ctx.beginPath(); ctx.moveTo(x, box.y + box.h); ctx.lineTo(x, box.y + box.h + 4); ctx.stroke();
    ctx.fillText(fmtTick(t), x, box.y + box.h + 6);
  }
  if (yticks) {
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const t of ticks(ylim[0], ylim[1], Math.max(3, Math.floor(box.h / 45)))) {
      const y = Y(t);
      if (grid) { ctx.save(); ctx.strokeStyle = "#e4e4e4"; ctx.beginPath(); ctx.moveTo(box.x, y); ctx.lineTo(box.x + box.w, y); ctx.stroke(); ctx.restore(); }
      ctx.beginPath(); ctx.moveTo(box.x - 4, y); ctx.lineTo(box.x, y); ctx.stroke();
      ctx.fillText(fmtTick(t), box.x - 6, y);
    }
  }
  ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.w, box.h);
  ctx.textAlign = "center"; ctx.textBaseline = "bottom"; ctx.font = "12px sans-serif";
  if (xlabel) ctx.fillText(xlabel, box.x + box.w / 2, box.y + box.h + 34);
  if (title) ctx.fillText(title, box.x + box.w / 2, box.y - 6);
  if (ylabel) {
    ctx.save(); ctx.translate(box.x - 42, box.y + box.h / 2); ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle"; ctx.fillText(ylabel, 0, 0); ctx.restore();
  }
  ctx.restore();
  return {X, Y, box};
}

/** Clip further drawing to the axes box (call inside ctx.save() / ctx.restore()). */
function clipTo(ctx, box) { ctx.beginPath(); ctx.rect(box.x, box.y, box.w, box.h); ctx.clip(); }

/** An axis-aligned ellipse at data centre c [2] with data radii r [2], through the maps {X, Y}; radii are capped
 *  in pixels, so a q a million times wider than the view costs the same as one inside it. */
function ellipse(ctx, map, c, r, style) {
  const cx = map.X(c[0]), cy = map.Y(c[1]);
  const rx = Math.min(Math.abs(map.X(c[0] + r[0]) - cx), 1e5), ry = Math.min(Math.abs(map.Y(c[1] + r[1]) - cy), 1e5);
  if (!isFinite(cx) || !isFinite(cy) || !isFinite(rx) || !isFinite(ry)) return;
  const far = Math.abs(cx) > 1e5 || Math.abs(cy) > 1e5;
  if (far) return;  // a centre far outside the view: nothing of the ellipse's outline is near the box
  Object.assign(ctx, style);
  ctx.beginPath(); ctx.ellipse(cx, cy, rx, ry, 0, 0, 2 * Math.PI); ctx.stroke();
}

/** A polyline through data points xs [m], ys [m]. */
function polyline(ctx, map, xs, ys, style) {
  Object.assign(ctx, style);
  ctx.beginPath();
  for (let i = 0; i < xs.length; i++) {
    const x = map.X(xs[i]), y = map.Y(ys[i]);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  }
  ctx.stroke();
}

/** A small legend: items [{colour, label, kind: "line" | "dot" | "box"}] from (x, y) down. */
function legend(ctx, x, y, items, font = "11px sans-serif") {
  ctx.save(); ctx.font = font; ctx.textBaseline = "middle"; ctx.textAlign = "left";
  items.forEach((it, i) => {
    const yy = y + 14 * i;
    ctx.fillStyle = ctx.strokeStyle = it.colour; ctx.lineWidth = it.width || 2;
    if (it.kind === "dot") { ctx.beginPath(); ctx.arc(x + 7, yy, 3.5, 0, 2 * Math.PI); ctx.fill(); }
    else if (it.kind === "box") ctx.fillRect(x + 1, yy - 5, 12, 10);
    else { ctx.beginPath(); ctx.moveTo(x, yy); ctx.lineTo(x + 14, yy); ctx.stroke(); }
    ctx.fillStyle = "#222"; ctx.fillText(it.label, x + 19, yy);
  });
  ctx.restore();
}

/** Seeded uniform [0, 1) generator (mulberry32) and a standard normal from it (Box–Muller). */
function rng(seed) {
  let a = (seed >>> 0) || 0x9e3779b9;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {uniform: u, normal: () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u())};
}

/** Call fn when trait `name` changes (from Python or from this page); -> a function that stops listening. */
function onChange(model, names, fn) {
  const events = [].concat(names).map(n => `change:${n}`);
  for (const e of events) model.on(e, fn);
  return () => { for (const e of events) model.off(e, fn); };
}

/** log Σ exp(a_i) of an array. */
function logSumExp(a) {
  let m = -Infinity;
  for (const v of a) if (v > m) m = v;
  if (m === -Infinity) return m;
  let s = 0;
  for (const v of a) s += Math.exp(v - m);
  return m + Math.log(s);
}
