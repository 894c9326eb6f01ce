/**
 * The part of JSPath (https://github.com/dfilatov/jspath, the syntax Zotero's JSON resolvers use)
 * that resolver configurations need: `.a.b` steps that flatten arrays on the way, `..a` for a
 * property at any depth, `.*` for every property, `[n]` / `[-n]` positions, and `"quoted"` names.
 * Predicates (`{…}`) are refused with a clear error rather than silently matching nothing.
 */

type Step = { kind: 'prop'; name: string; deep: boolean } | { kind: 'any'; deep: boolean } | { kind: 'index'; at: number };

export function parseJsPath(path: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  const s = path.trim();
  if (!s.startsWith('.')) throw new Error(`JSPath must start with "." : ${path}`);
  while (i < s.length) {
    if (s[i] === '.') {
      const deep = s[i + 1] === '.';
      i += deep ? 2 : 1;
      if (s[i] === '*') {
        steps.push({ kind: 'any', deep });
        i++;
        continue;
      }
      if (s[i] === '"') {
        const end = s.indexOf('"', i + 1);
        if (end < 0) throw new Error(`unterminated name in JSPath: ${path}`);
        steps.push({ kind: 'prop', name: s.slice(i + 1, end), deep });
        i = end + 1;
        continue;
      }
      const m = /^[A-Za-z_$][\w$-]*/.exec(s.slice(i));
      if (!m) {
        if (i >= s.length && !deep && steps.length === 0) break; // "." alone: the root
        throw new Error(`unsupported JSPath near "${s.slice(i - 1)}": ${path}`);
      }
      steps.push({ kind: 'prop', name: m[0], deep });
      i += m[0].length;
    } else if (s[i] === '[') {
      const m = /^\[\s*(-?\d+)\s*\]/.exec(s.slice(i));
      if (!m) throw new Error(`only [n] positions are supported in JSPath: ${path}`);
      steps.push({ kind: 'index', at: Number(m[1]) });
      i += m[0].length;
    } else if (s[i] === '{') {
      throw new Error(`JSPath predicates ({…}) are not supported: ${path}`);
    } else throw new Error(`unsupported JSPath near "${s.slice(i)}": ${path}`);
  }
  return steps;
}

const flat = (xs: unknown[]): unknown[] => xs.flatMap((x) => (Array.isArray(x) ? x : [x]));

function descendants(x: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(x)) for (const y of x) descendants(y, out);
  else if (x && typeof x === 'object') {
    out.push(x);
    for (const v of Object.values(x)) descendants(v, out);
  }
  return out;
}

/** Every value the path selects, arrays flattened (JSPath's semantics). */
export function jsPath(path: string, data: unknown): unknown[] {
  let cur: unknown[] = flat([data]);
  for (const st of parseJsPath(path)) {
    if (st.kind === 'index') {
      const at = st.at < 0 ? cur.length + st.at : st.at;
      cur = at >= 0 && at < cur.length ? [cur[at]] : [];
      continue;
    }
    const from = st.deep ? cur.flatMap((x) => descendants(x)) : cur;
    const next: unknown[] = [];
    for (const x of from) {
      if (!x || typeof x !== 'object' || Array.isArray(x)) continue;
      const o = x as Record<string, unknown>;
      if (st.kind === 'any') next.push(...Object.values(o));
      else if (Object.prototype.hasOwnProperty.call(o, st.name)) next.push(o[st.name]);
    }
    cur = flat(next).filter((v) => v !== undefined && v !== null);
  }
  return cur;
}
