// Renders LaTeX with KaTeX, one JSON-encoded string per input line, one JSON answer per line:
// {"ok": true} or {"ok": false, "error": "..."}. Strict: KaTeX's warnings count as errors.
const readline = require('readline');
const katex = require('katex');
const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  let answer;
  try {
    const source = JSON.parse(line);
    katex.renderToString(source, {
      throwOnError: true,
      displayMode: true,
      strict: (code, message) => { throw new Error(`strict (${code}): ${message}`); },
    });
    answer = { ok: true };
  } catch (e) {
    answer = { ok: false, error: String(e.message || e) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
