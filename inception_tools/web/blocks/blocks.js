// Building-blocks page: draws every layer from the JSON in #blocks-data (no network, no CDN).
"use strict";

const data = JSON.parse(document.getElementById("blocks-data").textContent);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

const fmt = (x, d = 3) => Number(x).toPrecision(d);
const pfmt = (p) => (p === 0 ? "< 1e-300" : p < 1e-4 ? Number(p).toExponential(1) : fmt(p, 2));
const className = (index) => data.classes.find((c) => c.index === index).name;

// Colour of a value v in [-1, 1]: orange for positive, blue for negative, transparent at 0.
function heat(v, signed) {
  const a = Math.min(1, Math.abs(v)) * 0.75;
  if (!signed) return `rgba(0, 0, 0, ${(0.75 - a).toFixed(3)})`; // unsigned maps: dim what is weak
  return v >= 0 ? `rgba(255, 130, 0, ${a.toFixed(3)})` : `rgba(0, 110, 255, ${a.toFixed(3)})`;
}

function paint(cells, map, signed) {
  const flat = map.flat();
  const scale = Math.max(...flat.map(Math.abs)) || 1;
  cells.forEach((cell) => {
    cell.style.background = heat(map[cell.dataset.y][cell.dataset.x] / scale, signed);
  });
}

function dictionaryEntry(layer, entry, y, x, maxValue) {
  const channels = layer.dictionary.channels[y][x];
  const values = layer.dictionary.values[y][x];
  const thumbs = el("div", { class: "thumbs" });
  channels.forEach((c, i) => {
    const side = Math.round(24 + 72 * Math.max(0, values[i]) / maxValue);
    const img = el("img", { src: layer.thumbs[c], width: side, height: side, "data-channel": c, alt: `channel ${c}` });
    thumbs.append(el("figure", {}, img, el("figcaption", { text: `${c}: ${fmt(values[i])}` })));
  });
  entry.replaceChildren(el("h3", { text: `${layer.name} at (${y}, ${x}): top ${channels.length} channels` }), thumbs);
}

function channelTable(layer, attribution, sign) {
  const rows = attribution[sign].map((r) => el("tr", {},
    el("td", {}, el("img", { src: layer.thumbs[r.channel], alt: `channel ${r.channel}` })),
    el("td", { class: "num", text: r.channel }),
    el("td", { class: "num", text: fmt(r.ablation) }),
    el("td", { class: "num", text: fmt(r.linear) })));
  const head = el("tr", {}, el("th", {}), el("th", { text: "channel" }), el("th", { text: "ablation" }),
    el("th", { text: "grad×act" }));
  return el("table", { class: `channels ${sign}` }, head, ...rows);
}

function drawLayer(layer) {
  const section = el("section", { id: `layer-${layer.name}`, class: "layer" });
  section.append(el("h2", { text: `${layer.name} (${layer.height}×${layer.width} positions, ${layer.depth} channels)` }));
  const grid = el("div", { class: "grid" });
  grid.style.gridTemplate = `repeat(${layer.height}, 1fr) / repeat(${layer.width}, 1fr)`;
  const cells = [];
  for (let y = 0; y < layer.height; y++) {
    for (let x = 0; x < layer.width; x++) {
      const cell = el("div", { class: "cell", "data-y": y, "data-x": x });
      cells.push(cell);
      grid.append(cell);
    }
  }
  const entry = el("div", { class: "entry" }, el("p", { class: "hint", text: "Hover a position to see its dictionary entry." }));
  section.append(el("div", { class: "row" }, el("div", { class: "stage" }, el("img", { src: data.image, alt: "input" }), grid), entry));
  const maxValue = Math.max(...layer.dictionary.values.flat(2)) || 1;
  cells.forEach((cell) => cell.addEventListener("mouseenter", () => {
    cells.forEach((c) => c.classList.remove("active"));
    cell.classList.add("active");
    dictionaryEntry(layer, entry, Number(cell.dataset.y), Number(cell.dataset.x), maxValue);
  }));

  // Overlays: a button per map; the chosen one stays, a hovered group shows its map meanwhile.
  const modes = el("div", { class: "modes" });
  let current = null;
  const show = (map, signed) => paint(cells, map, signed);
  function addMode(label, map, signed) {
    const button = el("button", { type: "button", text: label });
    button.addEventListener("click", () => {
      modes.querySelectorAll("button").forEach((b) => b.classList.remove("on"));
      button.classList.add("on");
      current = [map, signed];
      show(map, signed);
    });
    modes.append(button);
    return button;
  }
  const first = addMode("activation (L2 norm)", layer.activation, false);
  layer.attributions.forEach((a) => {
    addMode(`${className(a.class)}: grad×act`, a.linear, true);
    addMode(`${className(a.class)}: ablation`, a.ablation, true);
  });
  section.append(el("h3", { text: "Overlay" }), modes);
  first.click();

  const groups = el("div", { class: "groups" });
  layer.groups.forEach((g, i) => {
    const attr = g.attribution.map((v, k) => `${className(layer.attributions[k].class)} ${v >= 0 ? "+" : ""}${fmt(v)}`);
    const card = el("div", { class: "group", "data-group": i, title: attr.join("\n") },
      el("img", { src: g.render, alt: `group ${i}` }), el("div", { text: `group ${i}` }),
      ...attr.map((t) => el("div", { class: "hint", text: t })));
    card.addEventListener("mouseenter", () => { card.classList.add("on"); show(g.map, false); });
    card.addEventListener("mouseleave", () => { card.classList.remove("on"); show(...current); });
    card.addEventListener("click", () => {
      modes.querySelectorAll("button").forEach((b) => b.classList.remove("on"));
      current = [g.map, false];
    });
    groups.append(card);
  });
  section.append(el("h3", { text: `NMF groups (${layer.groups.length}; relative reconstruction error ${fmt(layer.nmf_relative_error, 2)})` }),
    el("p", { class: "hint", text: "Hover a group to see where it is active; click to keep its map. Numbers: its grad×act attribution to each class." }),
    groups);

  section.append(el("h3", { text: "Channel attribution (logit drop when the channel is ablated; grad×act)" }),
    el("p", { class: "hint", text: `Ablation baseline: ${layer.baseline}. Spearman rho over all ${layer.depth} channels between grad×act and ablation.` }));
  const tables = el("div", { class: "tables" });
  layer.attributions.forEach((a) => {
    const agree = a.channel_agreement, pos = a.position_agreement;
    tables.append(el("div", { class: "class-attribution", "data-class": a.class },
      el("h3", { text: `${className(a.class)} (logit ${fmt(a.logit)})` }),
      el("p", { class: "hint", text: `channels: rho ${fmt(agree.rho, 3)} (p ${pfmt(agree.p)}); positions: rho ${fmt(pos.rho, 3)} (p ${pfmt(pos.p)})` }),
      el("div", { class: "row" }, channelTable(layer, a, "positive"), channelTable(layer, a, "negative"))));
  });
  section.append(tables);
  return section;
}

const classes = data.classes.map((c) => `${c.name} (logit ${fmt(c.logit)})`).join(", ");
const s = data.summary;
document.getElementById("summary").append(
  el("p", { text: `${data.model} on ${data.source}. Classes: ${classes}.` }),
  el("p", { class: "hint", text: `Thumbnails: ${s.renders_shown} renders at ${data.render_settings.size} px, ${data.render_settings.steps} steps (${s.renders_made} made for this page, in ${s.render_seconds} s; analysis ${s.analysis_seconds} s).` }));
document.getElementById("layers").append(...data.layers.map(drawLayer));
