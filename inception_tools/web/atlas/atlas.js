// Activation-atlas page: draws every layer from the JSON in #atlas-data (no network, no CDN).
"use strict";

const data = JSON.parse(document.getElementById("atlas-data").textContent);
const config = data.config;

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

// Share of a cell's side its render fills: all of it, or by density (as atlas.png: sqrt of the count share, at least 1/4).
function share(count, largest) {
  return config.by_density ? Math.max(0.25, Math.sqrt(count / largest)) : 1;
}

function cellEntry(layer, cell, entry) {
  const ids = cell.patches.map((p) => `${p.id} (${p.y}, ${p.x})`).join(", ");
  const rows = cell.top.map((t) => el("tr", {}, el("td", { text: t.name }), el("td", { class: "num", text: fmt(t.score) })));
  entry.replaceChildren(
    el("h3", { text: `${layer.layer} cell (${cell.row}, ${cell.col}): ${cell.count} vectors` }),
    el("img", { class: "render", src: cell.render, alt: "render", width: 96, height: 96 }),
    el("h3", { text: `nearest dataset patches (${cell.patches.length})` }),
    el("img", { class: "patches", src: cell.patch_strip, alt: `patches of cell (${cell.row}, ${cell.col})` }),
    el("p", { class: "hint", text: ids }),
    el("h3", { text: "classes it pushes most" }),
    el("table", { class: "classes" }, el("tr", {}, el("th", { text: "class" }), el("th", { text: "logit change" })), ...rows));
}

function drawLayer(layer) {
  const section = el("section", { id: `layer-${layer.layer}`, class: "layer" });
  const n = config.grid;
  section.append(el("h2", { text: `${layer.layer}: ${layer.n_vectors} vectors, ${layer.cells.length} cells of ${n}×${n} (at least ${config.min_count} vectors each)` }));
  const grid = el("div", { class: "grid" });
  grid.style.gridTemplate = `repeat(${n}, 1fr) / repeat(${n}, 1fr)`;
  const entry = el("div", { class: "entry" }, el("p", { class: "hint", text: "Hover a cell to see its count, nearest dataset patches and top classes." }));
  const largest = Math.max(...layer.cells.map((c) => c.count));
  const cells = layer.cells.map((cell) => {
    const div = el("div", { class: "cell", "data-row": cell.row, "data-col": cell.col, title: `${cell.count} vectors` });
    div.style.gridRow = String(cell.row + 1);
    div.style.gridColumn = String(cell.col + 1);
    const img = el("img", { src: cell.render, alt: `cell (${cell.row}, ${cell.col})` });
    const side = `${(100 * share(cell.count, largest)).toFixed(1)}%`;
    img.style.width = side;
    img.style.height = side;
    div.append(img);
    div.addEventListener("mouseenter", () => {
      cells.forEach((c) => c.classList.remove("active"));
      div.classList.add("active");
      cellEntry(layer, cell, entry);
    });
    grid.append(div);
    return div;
  });
  section.append(el("div", { class: "row" }, el("div", { class: "atlas" }, grid), entry));
  return section;
}

const summary = `${data.model}; ${config.per_image} position(s) per image, seed ${config.seed}; renders: ${config.steps} steps, ` +
  `cosine power ${config.cossim_pow}, ${config.render_batch} cells per optimization. Class scores: the logit change when every ` +
  "position of the layer holds the cell's average instead of the average of all sampled vectors.";
document.getElementById("summary").append(el("p", { class: "hint", text: summary }));
document.getElementById("layers").append(...data.layers.map(drawLayer));
