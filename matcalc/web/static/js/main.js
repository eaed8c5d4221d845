// The playground page: inputs → state (kept in the URL) → API calls → rendered results.

import { Latest, getJSON, postForFile, postJSON } from "./api.js";
import { parseSizes, parseValues } from "./numbers.js";
import * as render from "./render.js";
import { DEFAULTS, readState, writeState } from "./state.js";

const $ = (selector) => document.querySelector(selector);
const $$ = (selector) => Array.from(document.querySelectorAll(selector));

let state = readState(window.location.hash);
let lastAnswer = null; // the latest successful derivation
let examples = [];
let inFlight = 0;

const ERROR_BOXES = {
  program: "#program-error", shapes: "#shapes-error", wrt: "#wrt-error",
  dims: "#numbers-error", values: "#numbers-error", seed: "#numbers-error",
  candidate: "#compare-error", variable: "#compare-error",
};

// --- requests -----------------------------------------------------------------------------------

function splitNames(text) {
  return text.split(/[\s,]+/).filter((name) => name);
}

/** The fields every API call shares: the program, its shapes, the variables, node mode. */
function programFields() {
  return {
    program: state.program,
    shapes: state.shapes,
    wrt: splitNames(state.wrt),
    node: state.node === "auto" ? null : state.node === "yes",
  };
}

/** Sizes, seed and values from their fields; throws an Error naming the field at fault. */
function numberFields() {
  return { dims: parseSizes(state.dims), seed: state.seed, values: parseValues(state.values) };
}

async function tracked(promise) {
  inFlight += 1;
  $("#busy").hidden = false;
  document.body.dataset.busy = "1";
  try {
    return await promise;
  } finally {
    inFlight -= 1;
    if (inFlight === 0) {
      $("#busy").hidden = true;
      delete document.body.dataset.busy;
    }
  }
}

const deriver = new Latest((body) => tracked(postJSON("/api/derive", body)), showDerivation);
const explainer = new Latest((body) => tracked(postJSON("/api/explain", body)), showSteps);
const drawer = new Latest((body) => tracked(postJSON("/api/figure", body)), showFigure);
const dirty = { steps: true, graph: true }; // tabs whose content was made for older inputs

/** The fields of worked numbers, when asked for; a bad field is shown and left out. */
function workedFields() {
  render.clearError($("#numbers-error"));
  if (!state.worked) return { worked: false };
  try {
    return { worked: true, ...numberFields() };
  } catch (err) {
    render.renderError($("#numbers-error"), { message: err.message });
    return { worked: false };
  }
}

let deriveNeeded = false;

/** Ask for what the changes need: gradients and code, and the open tab's content. */
function refresh() {
  if (deriveNeeded) {
    deriveNeeded = false;
    deriver.ask(programFields());
    dirty.steps = true;
    dirty.graph = true;
  }
  refreshTab();
}

/** The step-by-step derivation and the figure are asked for only when their tab is open. */
function refreshTab() {
  if (state.tab === "steps" && dirty.steps) {
    dirty.steps = false;
    explainer.ask({ ...programFields(), lang: state.lang, ...workedFields() });
  } else if (state.tab === "graph" && dirty.graph) {
    dirty.graph = false;
    drawer.ask({ ...programFields(), ...workedFields() });
  }
}

// --- answers ------------------------------------------------------------------------------------

/** An error under the input it is about (by its field), else in the given box. */
function showRequestError(error, fallback = "#program-error") {
  const box = $(ERROR_BOXES[error.field] || fallback);
  render.renderError(box, error);
  if (error.field === "program" && error.line) linkToPosition(box, error);
}

/** Clicking "line L, column C" puts the cursor there in the editor. */
function linkToPosition(box, error) {
  const where = box.querySelector(".where");
  if (!where) return;
  where.classList.add("link");
  where.addEventListener("click", () => {
    const lines = state.program.split("\n");
    const before = lines.slice(0, error.line - 1).reduce((n, line) => n + line.length + 1, 0);
    const offset = before + error.column - 1;
    const editor = $("#program");
    editor.focus();
    editor.setSelectionRange(offset, offset + 1);
  });
}

function clearRequestErrors() {
  for (const box of ["#program-error", "#shapes-error", "#wrt-error"]) render.clearError($(box));
  $("#undeclared").hidden = true;
}

function showDerivation(answer) {
  clearRequestErrors();
  if (!answer.ok) {
    showRequestError(answer.data.error);
    showUndeclared(answer.data.undeclared);
    if (answer.data.program) showProgram(answer.data.program);
    $(".outputs").classList.add("stale");
    return;
  }
  const data = answer.data;
  lastAnswer = data;
  $(".outputs").classList.remove("stale");
  showProgram(data.program);
  render.renderGradients(data);
  showCode();
}

/** Errors about the program itself are shown under the editor by the derivation's answer. */
function aboutInputs(answer) {
  return !answer.ok && ["program", "shapes", "wrt"].includes(answer.data.error.field);
}

function showSteps(answer) {
  if (aboutInputs(answer)) return;
  render.renderDerivation(answer.data);
  const worked = answer.ok && answer.data.worked;
  render.renderNote($("#worked-note"), worked && worked.error ? worked.error : null);
}

function showFigure(answer) {
  if (aboutInputs(answer)) return;
  render.renderFigure(answer.data);
}

function showProgram(program) {
  render.renderShapes(program);
  fillVariables(program);
  $("#node").checked = program.node;
  $("#node-auto").textContent = state.node === "auto"
    ? `(set by itself: the result is ${program.result.shape})` : "";
  $("#dims").placeholder = Object.entries(program.sizes).map(([k, v]) => `${k}=${v}`).join(", ");
}

/** The variables a gradient can be checked for: those differentiated by first, then the other
 * inputs and named intermediates. */
function fillVariables(program) {
  const names = [...program.wrt];
  for (const n of program.inputs.filter((i) => i.used).concat(program.named)) {
    if (!names.includes(n.name) && n.name !== program.result.name) names.push(n.name);
  }
  const select = $("#compare-variable");
  select.replaceChildren(...names.map((name) => new Option(name, name)));
  if (names.includes(state.variable)) select.value = state.variable;
}

/** The prompt for an undeclared name, filled with what the program says of its shape. */
function showUndeclared(info) {
  const box = $("#undeclared");
  if (!info) {
    box.hidden = true;
    return;
  }
  box.querySelector(".name").textContent = info.name;
  box.querySelector(".rows").value = info.rows || "";
  box.querySelector(".cols").value = info.cols || "";
  const chips = box.querySelector(".chips");
  chips.replaceChildren();
  for (const [rows, cols] of info.fits) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.textContent = `${rows}×${cols}`;
    chip.addEventListener("click", () => {
      box.querySelector(".rows").value = rows;
      box.querySelector(".cols").value = cols;
    });
    chips.appendChild(chip);
  }
  box.querySelector(".fits").hidden = info.fits.length === 0;
  box.dataset.name = info.name;
  box.hidden = false;
}

function declareUndeclared() {
  const box = $("#undeclared");
  const rows = box.querySelector(".rows").value.trim();
  const cols = box.querySelector(".cols").value.trim() || "1";
  if (!rows) {
    box.querySelector(".rows").focus();
    return;
  }
  const line = `${box.dataset.name}: ${rows}, ${cols}`;
  state.shapes = state.shapes.trim() ? `${state.shapes.replace(/\n*$/, "")}\n${line}` : line;
  $("#shapes").value = state.shapes;
  changed({ resetCheck: true });
}

function showCode() {
  if (!lastAnswer) return;
  const section = lastAnswer.code[state.backend];
  render.renderNote($("#code-note"), section.error);
  $("#code").textContent = section.error ? "" : section.source;
}

// --- the numeric check and the post -------------------------------------------------------------

let checkRound = 0; // a report made for inputs that have changed since is not shown

async function runCheck() {
  render.clearError($("#numbers-error"));
  let numbers;
  try {
    numbers = numberFields();
  } catch (err) {
    render.renderError($("#numbers-error"), { message: err.message });
    return;
  }
  state.check = true;
  writeState(state);
  checkRound += 1;
  const round = checkRound;
  const answer = await tracked(postJSON("/api/check", { ...programFields(), ...numbers }));
  if (round !== checkRound) return;
  if (!answer.ok) {
    render.clearCheck();
    showRequestError(answer.data.error, "#numbers-error");
    return;
  }
  render.renderCheck(answer.data);
}

let compareRound = 0;

/** Check the reader's own gradient against matcalc's (matcalc.compare). */
async function runCompare() {
  render.clearError($("#compare-error"));
  const variable = state.variable || $("#compare-variable").value;
  if (!state.candidate.trim() || !variable) {
    render.renderError($("#compare-error"), { message: "type your gradient first" });
    return;
  }
  let dims;
  try {
    dims = parseSizes(state.dims);
  } catch (err) {
    render.renderError($("#compare-error"), { message: err.message });
    return;
  }
  state.compared = true;
  writeState(state);
  compareRound += 1;
  const round = compareRound;
  const body = { ...programFields(), variable, candidate: state.candidate,
                 language: state.language || null, dims, seed: state.seed };
  const answer = await tracked(postJSON("/api/compare", body));
  if (round !== compareRound) return;
  render.clearComparison();
  if (!answer.ok) {
    showRequestError(answer.data.error, "#compare-error");
    return;
  }
  render.renderComparison(answer.data);
}

function resetComparison() {
  compareRound += 1;
  state.compared = false;
  render.clearComparison();
}

async function downloadPost() {
  render.clearError($("#post-error"));
  const body = { ...programFields(), lang: state.lang, worked: state.worked, title: state.title,
                 target: state.target };
  if (state.worked) {
    try {
      Object.assign(body, numberFields());
    } catch (err) {
      render.renderError($("#post-error"), { message: err.message });
      return;
    }
  }
  const answer = await tracked(postForFile("/api/post", body));
  if (!answer.ok) {
    render.renderError($("#post-error"), answer.data.error);
    return;
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(answer.blob);
  link.download = answer.filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

// --- copying ------------------------------------------------------------------------------------

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement("textarea"); // where the Clipboard API is refused
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const label = button.textContent;
  button.textContent = "Copied";
  button.classList.add("done");
  setTimeout(() => {
    button.textContent = label;
    button.classList.remove("done");
  }, 1500);
}

// --- wiring -------------------------------------------------------------------------------------

let timer = null;

/** Refresh once the typing pauses (a quarter second); body[data-pending] says one is waiting. */
function schedule() {
  clearTimeout(timer);
  document.body.dataset.pending = "1";
  timer = setTimeout(() => {
    delete document.body.dataset.pending;
    refresh();
  }, 250);
}

/** The inputs changed: record the state, drop a check made for other inputs, derive again. */
function changed({ resetCheck = false, rederive = true } = {}) {
  if (resetCheck) {
    checkRound += 1;
    state.check = false;
    render.clearCheck();
    resetComparison();
  }
  writeState(state);
  if (!rederive) return;
  deriveNeeded = true;
  schedule();
}

/** Only the derivation and the figure depend on the language and the worked numbers. */
function documentChanged() {
  writeState(state);
  dirty.steps = true;
  dirty.graph = true;
  schedule();
}

function fillInputs() {
  $("#program").value = state.program;
  $("#shapes").value = state.shapes;
  $("#wrt").value = state.wrt;
  $("#worked").checked = state.worked;
  $("#dims").value = state.dims;
  $("#seed").value = String(state.seed);
  $("#values").value = state.values;
  $("#title").value = state.title;
  $("#post-target").value = state.target;
  $("#candidate").value = state.candidate;
  $("#compare-language").value = state.language;
  pressToggles();
}

/** Mark the buttons of every toggle (data-view, data-lang, data-backend, data-tab). */
function pressToggles() {
  for (const field of ["view", "lang", "backend"]) {
    for (const b of $$(`[data-${field}]`)) {
      b.setAttribute("aria-pressed", String(b.dataset[field] === state[field]));
    }
  }
  for (const b of $$("[data-tab]")) {
    b.setAttribute("aria-selected", String(b.dataset.tab === state.tab));
  }
  for (const panel of $$("[data-panel]")) panel.hidden = panel.dataset.panel !== state.tab;
  $("#gradients").hidden = state.view !== "typeset";
  $("#latex-source").hidden = state.view !== "latex";
  $("#copy-latex").hidden = state.view !== "latex";
  document.documentElement.lang = state.lang;
}

function bindText(selector, field, options) {
  $(selector).addEventListener("input", (event) => {
    state[field] = event.target.value;
    changed(options);
  });
}

function bindToggles() {
  for (const b of $$("[data-view]")) {
    b.addEventListener("click", () => {
      state.view = b.dataset.view;
      pressToggles();
      changed({ rederive: false });
    });
  }
  for (const b of $$("[data-lang]")) {
    b.addEventListener("click", () => {
      state.lang = b.dataset.lang;
      pressToggles();
      documentChanged();
    });
  }
  for (const b of $$("[data-tab]")) {
    b.addEventListener("click", () => {
      state.tab = b.dataset.tab;
      pressToggles();
      writeState(state);
      refreshTab();
    });
  }
  for (const b of $$("[data-backend]")) {
    b.addEventListener("click", () => {
      state.backend = b.dataset.backend;
      pressToggles();
      showCode();
      changed({ rederive: false });
    });
  }
}

function chooseExample(id) {
  const ex = examples.find((e) => e.id === id);
  if (!ex) return;
  state = {
    ...DEFAULTS, lang: state.lang, view: state.view, backend: state.backend, tab: state.tab,
    target: state.target,
    program: ex.program, shapes: ex.shapes, wrt: ex.wrt || "", node: ex.node ? "yes" : "auto",
    values: ex.values || "", worked: Boolean(ex.worked),
  };
  render.clearCheck();
  fillInputs();
  changed();
}

async function loadExamples() {
  examples = (await getJSON("/api/examples")).examples;
  const select = $("#example");
  for (const ex of examples) {
    const option = document.createElement("option");
    option.value = ex.id;
    option.textContent = ex.title;
    select.appendChild(option);
  }
  select.addEventListener("change", () => chooseExample(select.value));
}

function bindInputs() {
  const reset = { resetCheck: true };
  bindText("#program", "program", reset);
  bindText("#shapes", "shapes", reset);
  bindText("#wrt", "wrt", reset);
  bindText("#title", "title", { rederive: false });
  for (const [selector, field] of [["#dims", "dims"], ["#values", "values"]]) {
    bindText(selector, field, { resetCheck: true, rederive: false });
    $(selector).addEventListener("input", () => state.worked && documentChanged());
  }
  $("#seed").addEventListener("input", (event) => {
    const n = Number.parseInt(event.target.value, 10);
    state.seed = Number.isInteger(n) && n >= 0 ? n : 0;
    changed({ resetCheck: true, rederive: false });
    if (state.worked) documentChanged();
  });
  $("#node").addEventListener("change", (event) => {
    state.node = event.target.checked ? "yes" : "no";
    changed({ resetCheck: true });
  });
  $("#worked").addEventListener("change", (event) => {
    state.worked = event.target.checked;
    documentChanged();
  });
  $("#undeclared .declare").addEventListener("click", declareUndeclared);
  $("#run-check").addEventListener("click", runCheck);
  $("#run-compare").addEventListener("click", runCompare);
  $("#candidate").addEventListener("input", (event) => {
    state.candidate = event.target.value;
    resetComparison();
    writeState(state);
  });
  for (const [selector, field] of [["#compare-variable", "variable"],
    ["#compare-language", "language"], ["#post-target", "target"]]) {
    $(selector).addEventListener("change", (event) => {
      state[field] = event.target.value;
      if (field !== "target") resetComparison();
      writeState(state);
    });
  }
  $("#download-post").addEventListener("click", downloadPost);
  $("#copy-code").addEventListener("click", (e) => copyText($("#code").textContent, e.target));
  $("#copy-latex").addEventListener("click", (e) => {
    copyText($("#latex-source").textContent, e.target);
  });
  $("#share").addEventListener("click", (e) => copyText(window.location.href, e.target));
  bindToggles();
}

/** Show the state a URL describes: on load, and when a pasted link changes only the fragment. */
function showState() {
  fillInputs();
  render.clearCheck();
  render.clearComparison();
  deriveNeeded = true;
  refresh();
  if (state.check) runCheck();
  if (state.compared) runCompare();
}

async function start() {
  bindInputs();
  await loadExamples();
  showState();
  window.addEventListener("hashchange", () => {
    state = readState(window.location.hash);
    showState();
  });
  document.body.dataset.ready = "1";
}

start();
