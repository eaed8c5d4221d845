// Calls to the playground's JSON API. Every answer, error or not, is JSON; an error is
// {"error": {"type", "message", "field", "line", "column", "excerpt"}}.

/** POST a JSON body; resolves to {ok, status, data} and never rejects on an HTTP error. */
export async function postJSON(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (err) {
    return networkError(err);
  }
  return { ok: response.ok, status: response.status, data: await readJSON(response) };
}

/** POST and get a file back (the post): {ok, blob, filename} or {ok: false, data}. */
export async function postForFile(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (err) {
    return networkError(err);
  }
  if (!response.ok) return { ok: false, status: response.status, data: await readJSON(response) };
  const disposition = response.headers.get("content-disposition") || "";
  const match = /filename="([^"]+)"/.exec(disposition);
  return { ok: true, blob: await response.blob(), filename: match ? match[1] : "post.md" };
}

export async function getJSON(path) {
  const response = await fetch(path);
  return response.json();
}

async function readJSON(response) {
  try {
    return await response.json();
  } catch {
    return { error: { type: "ServerError", message: `the server answered ${response.status}` } };
  }
}

function networkError(err) {
  const message = `the playground's server cannot be reached (${err.message}); `
    + "is matcalc serve running?";
  return { ok: false, status: 0, data: { error: { type: "NetworkError", message } } };
}

/**
 * Runs one request at a time and only the latest one asked for: while a request is on its way,
 * newer asks replace each other, and the last one is sent when the answer arrives. Typing fast
 * never queues stale derivations on the server.
 */
export class Latest {
  constructor(run, onAnswer) {
    this.run = run;
    this.onAnswer = onAnswer;
    this.pending = null;
    this.running = false;
  }

  ask(input) {
    this.pending = { input };
    if (!this.running) this.next();
  }

  async next() {
    if (!this.pending) {
      this.running = false;
      return;
    }
    const { input } = this.pending;
    this.pending = null;
    this.running = true;
    const answer = await this.run(input);
    if (!this.pending) this.onAnswer(answer, input);
    this.next();
  }
}
