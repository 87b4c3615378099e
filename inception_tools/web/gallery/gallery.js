// Client-side sorting of the channel table: no server, no library, works from file://.
"use strict";

// The first click puts the most important channels first: a drop in log-prob is negative.
const FIRST_DIRECTION = {
  importance: "descending", p: "ascending", channel: "ascending", dlogp: "ascending", kl: "descending", l1: "descending",
};

function sortValue(row, key) {
  const value = parseFloat(row.dataset[key]);
  return Number.isNaN(value) ? null : value;
}

function compareRows(key, sign) {
  return (a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    if (x === null || y === null) {  // missing values (NaN) always last
      return (x === null) - (y === null);
    }
    return sign * (x - y) || sortValue(a, "channel") - sortValue(b, "channel");
  };
}

function sortTable(table, button) {
  const key = button.dataset.sort;
  const header = button.closest("th");
  const current = header.getAttribute("aria-sort");
  const direction = current === "none" ? FIRST_DIRECTION[key]
    : current === "ascending" ? "descending" : "ascending";
  for (const th of table.querySelectorAll("th[aria-sort]")) {
    th.setAttribute("aria-sort", "none");
  }
  header.setAttribute("aria-sort", direction);
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort(compareRows(key, direction === "ascending" ? 1 : -1));
  body.append(...rows);
}

document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("channels");
  for (const button of table.querySelectorAll("th button[data-sort]")) {
    button.addEventListener("click", () => sortTable(table, button));
  }
});
