// The whole state of the page lives in the URL's fragment, so that a derivation is shared as a
// link: reloading it gives the same program, options and results. The fragment is never sent
// to the server.

export const DEFAULTS = {
  program: "Y = W @ X + b\nL = sum(relu(Y))",
  shapes: "W: m, n\nX: n, B\nb: m, 1",
  wrt: "", node: "auto", lang: "en", view: "typeset", backend: "numpy", tab: "steps",
  worked: false, dims: "", seed: 0, values: "", check: false, title: "", target: "jekyll",
  variable: "", candidate: "", language: "", compared: false,
};

// short keys keep shared links readable
const KEYS = {
  program: "p", shapes: "s", wrt: "wrt", node: "node", lang: "lang", view: "view",
  backend: "code", worked: "worked", dims: "dims", seed: "seed", values: "values",
  check: "check", title: "title", tab: "tab", target: "for", variable: "cv", candidate: "cand",
  language: "clang", compared: "compared",
};

const CHOICES = {
  node: ["auto", "yes", "no"], lang: ["en", "ko"], view: ["typeset", "latex"],
  backend: ["numpy", "jax", "torch"], tab: ["steps", "graph", "check", "compare", "code", "post"],
  target: ["jekyll", "hugo", "plain"], language: ["", "latex", "text"],
};

/** The state written in a URL fragment (missing or invalid entries take their defaults). */
export function readState(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const state = { ...DEFAULTS };
  for (const [field, key] of Object.entries(KEYS)) {
    if (!params.has(key)) continue;
    const text = params.get(key);
    if (typeof DEFAULTS[field] === "boolean") {
      state[field] = text === "1";
    } else if (field === "seed") {
      const n = Number.parseInt(text, 10);
      state.seed = Number.isInteger(n) && n >= 0 ? n : 0;
    } else if (CHOICES[field]) {
      state[field] = CHOICES[field].includes(text) ? text : DEFAULTS[field];
    } else {
      state[field] = text;
    }
  }
  return state;
}

/** The fragment for a state: only the entries that differ from the defaults. */
export function stateHash(state) {
  const params = new URLSearchParams();
  for (const [field, key] of Object.entries(KEYS)) {
    const value = state[field];
    if (value === DEFAULTS[field]) continue;
    params.set(key, typeof value === "boolean" ? (value ? "1" : "0") : String(value));
  }
  return "#" + params.toString();
}

/** Record the state in the address bar without adding a history entry per keystroke. */
export function writeState(state) {
  const hash = stateHash(state);
  if (hash !== window.location.hash) {
    window.history.replaceState(null, "", hash === "#" ? window.location.pathname : hash);
  }
}
