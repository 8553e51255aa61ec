// LatentExplorer: sliders over z, the decoder's mean image (the MLP runs here), a latent map with q's ellipse.

/** The MLP forward pass: packed float32 weights w (per layer W [out, in] row-major, then b [out]), LeakyReLU
 *  between layers, none after the last: input [in] -> Float64Array [out]. */
function forward(w, layers, slope, input) {
  let a = Float64Array.from(input), off = 0;
  layers.forEach(([nin, nout], li) => {
    const out = new Float64Array(nout), bias = off + nout * nin;
    for (let o = 0; o < nout; o++) {
      let s = w[bias + o];
      const row = off + o * nin;
      for (let i = 0; i < nin; i++) s += w[row + i] * a[i];
      out[o] = li < layers.length - 1 && s < 0 ? s * slope : s;
    }
    off = bias + nout;
    a = out;
  });
  return a;
}

/** Pixel means of p(x|z) in [0, 1] from the decoder's output: softmax over levels, sigmoid, or clamp. */
function pixelMeans(out, likelihood, levels, xDim) {
  const mean = new Float64Array(xDim);
  if (likelihood === "categorical") {
    for (let p = 0; p < xDim; p++) {
      let m = -Infinity;
      for (let l = 0; l < levels; l++) m = Math.max(m, out[p * levels + l]);
      let s = 0, e = 0;
      for (let l = 0; l < levels; l++) {
        const q = Math.exp(out[p * levels + l] - m);
        s += q; e += q * (l / (levels - 1));
      }
      mean[p] = e / s;
    }
  } else if (likelihood === "bernoulli") {
    for (let p = 0; p < xDim; p++) mean[p] = 1 / (1 + Math.exp(-out[p]));
  } else {
    for (let p = 0; p < xDim; p++) mean[p] = Math.min(Math.max(out[p], 0), 1);
  }
  return mean;
}

/** Floats in [0, 1] -> 8-bit grey exactly as Python's raster.to_uint8 (float32 arithmetic, then truncation). */
function toUint8(v) {
  const f = Math.fround(Math.min(Math.max(Math.fround(v), 0), 1));
  return Math.floor(Math.fround(Math.fround(f * 255) + 0.5));
}

/** Draw 8-bit grey levels dark on light, as the course's gray_r figures do (level 255 = ink = black). */
function greyImage(ctx, side, grey) {
  const img = ctx.createImageData(side, side);
  for (let p = 0; p < side * side; p++) {
    const g = 255 - grey[p];
    img.data[4 * p] = img.data[4 * p + 1] = img.data[4 * p + 2] = g;
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function render({model, el}) {
  const get = k => model.get(k);
  const side = get("side"), xDim = side * side, zDim = get("z_dim"), limit = get("limit");
  const weights = typed(get("decoder")), layers = get("decoder_layers"), slope = get("slope");
  const likelihood = get("likelihood"), levels = get("levels");
  const nData = get("n_data"), codes = typed(get("codes")), scales = typed(get("scales"));
  const images = typed(get("images"), Uint8Array), labels = get("labels_list");
  const normal = rng(get("seed") + 1).normal;
  const root = explorerRoot(el, "LatentExplorer", "vae-latent-explorer");

  // ---- column 1: sliders and buttons
  const sliders = get("dims").map(d => slider({
    label: `z[${d}]`, min: -limit, max: limit, value: snap(get("latent")[d], -limit, limit), cls: "vae-latent-slider",
    onInput: v => { const z = get("latent").slice(); z[d] = v; commit(z); },
  }));
  const sampleBtn = h("button", {class: "vae-sample", text: "Sample from prior", title: "z ~ N(0, I), all dims"});
  const resetBtn = h("button", {class: "vae-reset", text: "Reset", title: "z = 0, no ellipse"});
  sampleBtn.addEventListener("click", () => {
    model.set("selected_index", -1);
    const z = Array.from({length: zDim}, normal).map((v, i) => get("dims").includes(i) ? snap(v, -limit, limit) : v);
    commit(z);
  });
  resetBtn.addEventListener("click", () => { model.set("selected_index", -1); commit(new Array(zDim).fill(0)); });
  const heading = get("dims").length < zDim ? `latent z (${get("dims").length} of ${zDim} dims; the others stay fixed)` : "latent z";
  const col1 = h("div", {class: "vae-col"}, [h("div", {class: "vae-title", text: heading}), ...sliders.map(s => s.wrap),
    h("div", {class: "vae-row"}, [sampleBtn, resetBtn])]);
  let preview = null, index = null;
  if (nData > 0) {
    preview = h("canvas", {class: "vae-pixels vae-original", width: side, height: side, style: "width:72px;height:72px"});
    index = slider({label: "data #", min: 0, max: nData - 1, step: 1, digits: 0, value: get("index"), cls: "vae-index",
                    onInput: v => { model.set("index", v); model.save_changes(); drawPreview(); }});
    const encodeBtn = h("button", {class: "vae-encode", text: "Encode", title: "jump to the encoder mean of this image"});
    encodeBtn.addEventListener("click", () => encode(get("index")));
    col1.append(h("div", {class: "vae-title", text: "encode a data image"}), index.wrap,
                h("div", {class: "vae-row"}, [preview, encodeBtn]));
  }

  // ---- column 2: the decoded image
  const decoded = h("canvas", {class: "vae-pixels vae-decoded", width: side, height: side,
                                style: `width:${side * Math.max(1, Math.floor(256 / side))}px;height:${side * Math.max(1, Math.floor(256 / side))}px`});
  const col2 = h("div", {class: "vae-col"}, [h("div", {class: "vae-title", text: "decoded mean of p(x|z)"}), decoded]);
  root.append(col1, col2);

  // ---- column 3: the latent map
  let mapCanvas = null, mapCtx = null, backgrounds = {}, selects = [];
  const MAP_W = 380, MAP_H = 320, BOX = {x: 52, y: 26, w: 250, h: 250};
  if (get("dims").length >= 2) {
    ({canvas: mapCanvas, ctx: mapCtx} = hiDpiCanvas(MAP_W, MAP_H, "vae-latent-map"));
    const mk = (label, which) => {
      const sel = h("select", {class: `vae-map-${which}`, "aria-label": label});
      for (const d of get("dims")) sel.append(h("option", {value: d, text: `z[${d}]`}));
      sel.value = get("map_dims")[which === "x" ? 0 : 1];
      sel.addEventListener("change", () => {
        const md = get("map_dims").slice(); md[which === "x" ? 0 : 1] = Number(sel.value);
        model.set("map_dims", md); model.save_changes(); drawMap();
      });
      return h("label", {class: "vae-row"}, [h("span", {text: label}), sel]);
    };
    selects = [mk("x axis", "x"), mk("y axis", "y")];
    const caption = h("div", {class: "vae-note"});
    caption.innerHTML = "<span style='color:#e61e1e'>●</span> current z &nbsp; rings: q(z|x) of the encoded image, " +
                        "1σ (black) and 2σ (grey)";
    root.append(h("div", {class: "vae-col"}, [mapCanvas, h("div", {class: "vae-row"}, selects), caption]));
  }

  function background(dx, dy) {
    const key = `${dx},${dy}`;
    if (backgrounds[key]) return backgrounds[key];
    const {canvas, ctx} = hiDpiCanvas(MAP_W, MAP_H, "");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, MAP_W, MAP_H);
    const map = axes(ctx, BOX, [-limit, limit], [-limit, limit], {xlabel: `z[${dx}]`, ylabel: `z[${dy}]`, grid: true,
      title: nData ? `encoded data, z[${dx}] vs z[${dy}]` : `latent map: z[${dx}] vs z[${dy}]`});
    ctx.save(); clipTo(ctx, BOX); ctx.globalAlpha = 0.75;
    const n = get("n_points"), seen = new Set();
    for (let i = 0; i < n; i++) {
      const lab = labels.length ? labels[i] : -1;
      seen.add(lab);
      ctx.fillStyle = lab >= 0 ? LABEL_COLOURS[lab % 10] : BLUE;
      ctx.beginPath(); ctx.arc(map.X(codes[i * zDim + dx]), map.Y(codes[i * zDim + dy]), 2, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.restore();
    if (labels.length) {
      const labs = [...seen].sort((a, b) => a - b).slice(0, 16);
      ctx.save(); ctx.font = "11px sans-serif"; ctx.fillStyle = "#222"; ctx.fillText("label", BOX.x + BOX.w + 12, BOX.y + 8);
      ctx.restore();
      legend(ctx, BOX.x + BOX.w + 10, BOX.y + 24, labs.map(l => ({colour: LABEL_COLOURS[l % 10], label: String(l), kind: "dot"})));
    }
    return (backgrounds[key] = {canvas, map});
  }

  // ---- drawing
  let shownZ = null, shownMap = null, last = {};
  function decode(z) { return pixelMeans(forward(weights, layers, slope, z), likelihood, levels, xDim); }

  function drawDecoded(z) {
    const key = z.join(",");
    if (key === shownZ) return false;
    shownZ = key;
    const mean = decode(z);
    const grey = Array.from(mean, toUint8);
    greyImage(decoded.getContext("2d"), side, grey);
    last = {z: z.slice(), pixels: grey, mean: Array.from(mean)};
    return true;
  }

  function drawMap(force = false) {
    if (!mapCtx) return false;
    const [dx, dy] = get("map_dims"), z = get("latent"), sel = get("selected_index");
    const key = `${dx},${dy},${z[dx]},${z[dy]},${sel}`;
    if (!force && key === shownMap) return false;
    shownMap = key;
    const {canvas, map} = background(dx, dy);
    const r = canvas.width / MAP_W;
    mapCtx.save(); mapCtx.setTransform(1, 0, 0, 1, 0, 0); mapCtx.drawImage(canvas, 0, 0); mapCtx.restore();
    mapCtx.save(); clipTo(mapCtx, BOX);
    if (sel >= 0 && sel < nData) {
      const c = [codes[sel * zDim + dx], codes[sel * zDim + dy]], s = [scales[sel * zDim + dx], scales[sel * zDim + dy]];
      ellipse(mapCtx, map, c, [2 * s[0], 2 * s[1]], {strokeStyle: "#787878", lineWidth: 2});
      ellipse(mapCtx, map, c, s, {strokeStyle: "#141414", lineWidth: 2});
      const rx = Math.abs(map.X(s[0]) - map.X(0)), ry = Math.abs(map.Y(0) - map.Y(s[1]));
      if (Math.min(rx, ry) > BOX.w + BOX.h) {  // every ring lies outside the view: say so instead
        mapCtx.fillStyle = "#141414"; mapCtx.font = "11px sans-serif"; mapCtx.textAlign = "left";
        mapCtx.textBaseline = "top";
        mapCtx.fillText(`q(z|x) is wider than the view: σ = ${s[0].toPrecision(2)}, ${s[1].toPrecision(2)}`,
                        BOX.x + 6, BOX.y + 6);
      }
    }
    const px = map.X(z[dx]), py = map.Y(z[dy]);
    if (Math.abs(px) < 1e5 && Math.abs(py) < 1e5) {
      mapCtx.fillStyle = "#e61e1e"; mapCtx.strokeStyle = "#000"; mapCtx.lineWidth = 1.5;
      mapCtx.beginPath(); mapCtx.arc(px, py, 5, 0, 2 * Math.PI); mapCtx.fill(); mapCtx.stroke();
    }
    mapCtx.restore();
    void r;
    return true;
  }

  function drawPreview() {
    if (!preview) return;
    const i = get("index");
    greyImage(preview.getContext("2d"), side, images.subarray(i * xDim, (i + 1) * xDim));
  }

  function update() {
    const z = get("latent");
    get("dims").forEach((d, k) => sliders[k].set(snap(z[d], -limit, limit)));
    if (index) index.set(get("index"));
    const changed = drawDecoded(z);
    drawMap();
    if (changed) publish(root, {z: last.z, pixels: last.pixels, mean: last.mean});
  }

  function commit(z) {
    model.set("latent", z);
    model.save_changes();
    update();
  }

  function encode(i) {
    const z = get("latent").slice();
    for (let d = 0; d < zDim; d++) z[d] = codes[i * zDim + d];
    for (const d of get("dims")) z[d] = snap(z[d], -limit, limit);
    model.set("index", i);
    model.set("selected_index", i);
    drawPreview();
    commit(z);
  }

  const offs = [onChange(model, ["latent", "selected_index", "index"], update), onChange(model, "index", drawPreview),
    onChange(model, "map_dims", () => {
      selects.forEach((s, k) => { s.querySelector("select").value = get("map_dims")[k]; });
      drawMap();
    })];
  drawPreview();
  update();
  drawMap(true);
  root.vaeDecode = z => Array.from(decode(z));  // for tests: the page's decoder on any z
  return () => offs.forEach(off => off());
}

export default {render};
