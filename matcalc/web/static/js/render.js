// Rendering the API's answers into the page. Math is typeset by the KaTeX shipped with the
// package (window.katex); nothing is loaded from another host.

const $ = (selector) => document.querySelector(selector);

/** Typeset one TeX string into an element. */
export function typeset(element, tex, display) {
  window.katex.render(tex, element, { displayMode: display, throwOnError: false });
}

/** Typeset every math span and block that the derivation's HTML carries. */
export function typesetAll(root) {
  for (const el of root.querySelectorAll(".math")) {
    typeset(el, el.textContent, el.classList.contains("block"));
  }
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

/** The table of every input, named intermediate and the result, with its shape. */
export function renderShapes(program) {
  const body = $("#shape-table tbody");
  body.replaceChildren();
  const add = (name, shape, what) => {
    const row = document.createElement("tr");
    cell(row, name, "name");
    cell(row, shape, "shape");
    cell(row, what);
    body.appendChild(row);
  };
  for (const input of program.inputs) {
    add(input.name, input.shape, input.used ? "input" : "unused input");
  }
  const result = program.result;
  for (const named of program.named) {
    add(named.name, named.shape, named.name === result.name ? "result" : "intermediate");
  }
  if (result.name === null) add("(result)", result.shape, "result");
}

/** A located error: its message, "line L, column C", and the line with a caret under the spot. */
export function renderError(box, error) {
  box.replaceChildren();
  const message = document.createElement("p");
  message.className = "message";
  message.textContent = error.message;
  box.appendChild(message);
  if (error.line) {
    const where = document.createElement("p");
    where.className = "where";
    where.textContent = `line ${error.line}, column ${error.column}`;
    box.appendChild(where);
  }
  if (error.excerpt) {
    const pre = document.createElement("pre");
    pre.className = "caret";
    pre.textContent = error.excerpt;
    box.appendChild(pre);
  }
  box.hidden = false;
}

export function clearError(box) {
  box.hidden = true;
  box.replaceChildren();
}

/** The gradients typeset one per line, with their plain-text form; and the LaTeX source. */
export function renderGradients(data) {
  const box = $("#gradients");
  box.replaceChildren();
  for (const g of data.gradients) {
    const item = document.createElement("div");
    item.className = "gradient";
    item.dataset.name = g.name;
    const math = document.createElement("div");
    math.className = "display";
    typeset(math, g.latex, true);
    const text = document.createElement("code");
    text.className = "text-form";
    text.textContent = `d${data.program.loss}/d${g.name} = ${g.text}    (${g.shape})`;
    item.append(math, text);
    box.appendChild(item);
  }
  $("#latex-source").textContent = data.latex;
}

/** A note in place of a section that could not be computed. */
export function renderNote(box, error) {
  if (!error) {
    box.hidden = true;
    return;
  }
  box.textContent = error.message;
  box.hidden = false;
}

export function renderDerivation(section) {
  const box = $("#derivation");
  renderNote($("#worked-note"), null);
  if (section.error) {
    box.replaceChildren();
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = section.error.message;
    box.appendChild(p);
    return;
  }
  box.innerHTML = section.html; // HTML from matcalc.explain's Markdown; names come from the parser
  typesetAll(box);
}

let figureURL = null;

export function renderFigure(section) {
  const img = $("#figure");
  if (figureURL) URL.revokeObjectURL(figureURL);
  figureURL = null;
  renderNote($("#figure-note"), section.error);
  const link = $("#figure-download");
  if (section.error) {
    img.hidden = true;
    link.hidden = true;
    return;
  }
  figureURL = URL.createObjectURL(new Blob([section.svg], { type: "image/svg+xml" }));
  img.src = figureURL;
  link.href = figureURL;
  img.hidden = false;
  link.hidden = false;
}

function formatNumber(x, digits) {
  return x === null ? "—" : x.toExponential(digits);
}

/** The check report as a table, its verdict and notes. */
export function renderCheck(report) {
  const body = $("#check-table tbody");
  body.replaceChildren();
  for (const r of report.rows) {
    const row = document.createElement("tr");
    cell(row, r.variable, "name");
    cell(row, r.shape);
    cell(row, r.method);
    cell(row, formatNumber(r.max_abs_error, 2), "num");
    cell(row, formatNumber(r.max_rel_error, 2), "num");
    cell(row, formatNumber(r.step, 0), "num");
    cell(row, String(r.evaluations), "num");
    cell(row, r.status, `status ${r.status.toLowerCase()}`);
    if (r.note) row.title = r.note;
    body.appendChild(row);
  }
  $("#check-table").hidden = false;
  const verdict = $("#check-verdict");
  const sizes = Object.entries(report.dims).map(([k, v]) => `${k}=${v}`).join(", ") || "none";
  verdict.textContent = `${report.summary}; sizes ${sizes}, seed ${report.seed}`;
  verdict.className = `verdict ${report.overall.toLowerCase()}`;
  verdict.hidden = false;
  const notes = $("#check-notes");
  notes.replaceChildren();
  const lines = report.rows.filter((r) => r.note).map((r) => `${r.variable}: ${r.note}`);
  for (const text of lines.concat(report.notes)) {
    const li = document.createElement("li");
    li.textContent = text;
    notes.appendChild(li);
  }
}

/** The verdict on the reader's gradient: both forms typeset, and the report as a table. */
export function renderComparison(data) {
  const c = data.comparison;
  const verdict = $("#compare-verdict");
  const word = { true: "Equal", false: "Not equal", null: "Undecided" }[String(c.equal)];
  const message = c.message.replace(/^(not equal|equal|undecided): /i, "");
  verdict.textContent = `${word} — ${message}`;
  const kind = { true: "pass", false: "fail", null: "skipped" }[String(c.equal)];
  verdict.className = `verdict ${kind}`;
  verdict.hidden = false;
  const lhs = `${data.symbol} = `;
  const forms = $("#compare-forms");
  if (c.candidate_latex) typeset(forms.querySelector(".yours"), lhs + c.candidate_latex, true);
  else forms.querySelector(".yours").textContent = c.candidate;
  typeset(forms.querySelector(".expected"), lhs + c.expected_latex, true);
  forms.hidden = false;
  const body = $("#compare-table tbody");
  body.replaceChildren();
  for (const [key, value] of data.rows) {
    if (key === "matcalc in LaTeX") continue; // typeset above
    const row = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = key;
    row.appendChild(th);
    cell(row, value);
    body.appendChild(row);
  }
  $("#compare-table").hidden = false;
}

export function clearComparison() {
  for (const id of ["#compare-verdict", "#compare-forms", "#compare-table"]) $(id).hidden = true;
  $("#compare-table tbody").replaceChildren();
}

export function clearCheck() {
  $("#check-table").hidden = true;
  $("#check-table tbody").replaceChildren();
  $("#check-verdict").hidden = true;
  $("#check-notes").replaceChildren();
}
