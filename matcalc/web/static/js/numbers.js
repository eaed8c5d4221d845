// The page's number fields: sizes "m=3, n=4" and values "x=-2, W=[[1, 2], [3, 4]]", read as
// the command line reads --dims and --value. Each value is JSON; nothing is evaluated.

/** Split at commas or semicolons that are not inside brackets. */
function splitTopLevel(text) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === "[") depth += 1;
    else if (c === "]") depth -= 1;
    else if ((c === "," || c === ";") && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p);
}

function splitPair(item, what, example) {
  const eq = item.indexOf("=");
  const name = item.slice(0, eq).trim();
  if (eq < 1 || !/^[A-Za-z_][A-Za-z_0-9]*$/.test(name)) {
    throw new Error(`${what}: expected NAME=${example}, got "${item}"`);
  }
  return [name, item.slice(eq + 1).trim()];
}

/** "m=3, n=4" → {m: 3, n: 4}; throws an Error saying what is wrong. */
export function parseSizes(text) {
  const out = {};
  for (const item of splitTopLevel(text)) {
    const [name, value] = splitPair(item, "Sizes", "SIZE (e.g. m=3)");
    if (!/^\d+$/.test(value) || Number(value) < 1) {
      throw new Error(`Sizes: ${name} must be a positive whole number, got "${value}"`);
    }
    out[name] = Number(value);
  }
  return out;
}

/** "x=-2, W=[[1, 2], [3, 4]]" → {x: -2, W: [[1, 2], [3, 4]]}. */
export function parseValues(text) {
  const out = {};
  for (const item of splitTopLevel(text)) {
    const [name, value] = splitPair(item, "Values", "NUMBER or NAME=[[…], …]");
    try {
      out[name] = JSON.parse(value);
    } catch {
      throw new Error(`Values: ${name} must be a number or a JSON array, got "${value}"`);
    }
  }
  return out;
}
