// TradeoffExplorer: a β slider that swaps each β's panels, rendered once in Python and shipped as PNGs.

const PANELS = ["recon", "samples", "scatter", "curve"];

function render({model, el}) {
  const get = k => model.get(k);
  const betas = get("betas"), rates = get("rates"), dists = get("distortions"), offsets = get("offsets");
  const blob = typed(get("blob"), Uint8Array);
  const root = explorerRoot(el, "TradeoffExplorer", "vae-tradeoff-explorer");
  const urls = {};  // blob: URLs of every β's panels
  const url = (i, p) => {
    const key = `${i}:${p}`;
    if (!urls[key]) {
      const [start, len] = offsets[i][p];
      urls[key] = URL.createObjectURL(new Blob([blob.slice(start, start + len)], {type: "image/png"}));
    }
    return urls[key];
  };
  const index = () => Math.max(0, betas.indexOf(get("beta")));
  const label = i => `${+betas[i].toPrecision(6)}`;
  const input = h("input", {type: "range", min: 0, max: betas.length - 1, step: 1, class: "vae-beta-slider",
                            "aria-label": "β"});
  const value = h("span", {class: "vae-readout"});
  input.addEventListener("input", () => { model.set("beta", betas[Number(input.value)]); model.save_changes(); update(); });
  const info = h("div", {class: "vae-tradeoff-info vae-mono"});
  const imgs = PANELS.map(p => h("img", {class: `vae-tradeoff-${p}`, alt: p}));
  const captions = [h("div", {class: "vae-note"}), h("div", {class: "vae-note"})];
  root.append(h("div", {class: "vae-col"}, [
    h("div", {class: "vae-row"}, [h("label", {class: "vae-slider"}, [h("span", {text: "β"}), input, value]), info]),
    h("div", {class: "vae-row", style: "align-items:flex-start;gap:24px"},
      [h("div", {class: "vae-col"}, [captions[0], imgs[0]]), h("div", {class: "vae-col"}, [captions[1], imgs[1]])]),
    h("div", {class: "vae-row", style: "align-items:flex-start"}, [imgs[2], imgs[3]]),
  ]));

  betas.forEach((_, i) => PANELS.forEach((_, p) => url(i, p)));  // every PNG decoded into a blob: URL once, up front
  let shown = null;
  function update() {
    const i = index();
    input.value = i;
    value.textContent = label(i);
    if (i === shown) return;
    shown = i;
    imgs.forEach((img, p) => { img.src = url(i, p); });
    captions[0].innerHTML = `<b>β = ${label(i)}</b>: test images (top), reconstructions (bottom)`;
    captions[1].innerHTML = `<b>β = ${label(i)}</b>: means of p(x|z) for z ~ N(0, I)`;
    info.textContent = `rate ${rates[i].toFixed(2)} nats + distortion ${dists[i].toFixed(2)} nats = ` +
                       `${(rates[i] + dists[i]).toFixed(2)} nats (the β=1 bound, −ELBO)`;
    publish(root, {beta: betas[i], rate: rates[i], distortion: dists[i]});
  }
  const offs = [onChange(model, "beta", update)];
  update();
  return () => { offs.forEach(off => off()); Object.values(urls).forEach(u => URL.revokeObjectURL(u)); };
}

export default {render};
