/**
 * Just enough HTML for custom PDF resolvers: a tolerant tokenizer that builds an element tree,
 * and the CSS selectors such resolvers use (`#pdf`, `a.download`, `div.links > a[href$=".pdf"]`,
 * `meta[name="citation_pdf_url"]`, lists with `,`). Not a browser: no scripts, no styles.
 */
import { decodeEntities } from '../entities';

export interface HtmlElement {
  tag: string;
  attrs: Map<string, string>;
  children: HtmlElement[];
  parent?: HtmlElement;
  text: string[];
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
const RAW = new Set(['script', 'style', 'textarea', 'title']);

export function parseHtml(html: string): HtmlElement {
  const root: HtmlElement = { tag: '#root', attrs: new Map(), children: [], text: [] };
  let cur = root;
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      cur.text.push(decodeEntities(html.slice(i)));
      break;
    }
    if (lt > i) cur.text.push(decodeEntities(html.slice(i, lt)));
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    if (html[lt + 1] === '!' || html[lt + 1] === '?') {
      const end = html.indexOf('>', lt);
      i = end < 0 ? n : end + 1;
      continue;
    }
    const close = html[lt + 1] === '/';
    const m = /^<\/?([a-zA-Z][a-zA-Z0-9:-]*)/.exec(html.slice(lt, lt + 64));
    if (!m) {
      cur.text.push('<');
      i = lt + 1;
      continue;
    }
    const tag = m[1]!.toLowerCase();
    // Attributes: name, name=value, name="value", name='value'; a `>` inside quotes does not end the tag.
    let j = lt + m[0].length;
    const attrs = new Map<string, string>();
    while (j < n && html[j] !== '>') {
      const a = /^[\s/]*([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?/.exec(html.slice(j, j + 4096));
      if (!a || a[0].length === 0) {
        j++;
        continue;
      }
      if (!close && !attrs.has(a[1]!.toLowerCase())) attrs.set(a[1]!.toLowerCase(), decodeEntities(a[2] ?? a[3] ?? a[4] ?? ''));
      j += a[0].length;
    }
    i = j + 1;
    if (close) {
      // Close the nearest open element of that name; a stray end tag is ignored.
      for (let e: HtmlElement | undefined = cur; e && e !== root; e = e.parent) {
        if (e.tag === tag) {
          cur = e.parent ?? root;
          break;
        }
      }
      continue;
    }
    const el: HtmlElement = { tag, attrs, children: [], parent: cur, text: [] };
    cur.children.push(el);
    if (RAW.has(tag)) {
      const end = html.toLowerCase().indexOf(`</${tag}`, i);
      el.text.push(tag === 'title' || tag === 'textarea' ? decodeEntities(html.slice(i, end < 0 ? n : end)) : '');
      const gt = end < 0 ? n : html.indexOf('>', end);
      i = gt < 0 ? n : gt + 1;
      continue;
    }
    if (!VOID.has(tag) && html[j - 1] !== '/') cur = el;
  }
  return root;
}

export function textContent(el: HtmlElement): string {
  return [el.text.join(''), ...el.children.map(textContent)].join('');
}

interface Compound {
  tag?: string;
  id?: string;
  classes: string[];
  attrs: { name: string; op?: '=' | '~=' | '^=' | '$=' | '*=' | '|='; value?: string }[];
}

type Step = { combinator: ' ' | '>'; compound: Compound };

function parseCompound(s: string): Compound {
  const c: Compound = { classes: [], attrs: [] };
  const re = /^(\*|[a-zA-Z][a-zA-Z0-9-]*)|#([\w-]+)|\.([\w-]+)|\[\s*([\w:-]+)\s*(?:([~^$*|]?=)\s*(?:"([^"]*)"|'([^']*)'|([^\]\s]*)))?\s*\]/y;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m || m[0].length === 0 || (m[1] !== undefined && i !== 0)) throw new Error(`unsupported selector: ${s}`);
    if (m[1] !== undefined) c.tag = m[1] === '*' ? undefined : m[1].toLowerCase();
    else if (m[2] !== undefined) c.id = m[2];
    else if (m[3] !== undefined) c.classes.push(m[3]);
    else c.attrs.push({ name: m[4]!.toLowerCase(), op: m[5] as Compound['attrs'][number]['op'], value: m[6] ?? m[7] ?? m[8] });
    i = re.lastIndex;
  }
  return c;
}

/** Parses a selector list; throws on anything outside the supported subset, so a typo is reported, not ignored. */
export function parseSelector(sel: string): Step[][] {
  return sel.split(',').map((part) => {
    const tokens = part.trim().replace(/\s*>\s*/g, ' > ').split(/\s+/).filter(Boolean);
    if (!tokens.length) throw new Error(`empty selector in "${sel}"`);
    const steps: Step[] = [];
    let comb: ' ' | '>' = ' ';
    for (const t of tokens) {
      if (t === '>') {
        comb = '>';
        continue;
      }
      steps.push({ combinator: comb, compound: parseCompound(t) });
      comb = ' ';
    }
    return steps;
  });
}

function matchesCompound(el: HtmlElement, c: Compound): boolean {
  if (c.tag && el.tag !== c.tag) return false;
  if (c.id && el.attrs.get('id') !== c.id) return false;
  if (c.classes.length) {
    const cls = (el.attrs.get('class') ?? '').split(/\s+/);
    if (!c.classes.every((x) => cls.includes(x))) return false;
  }
  for (const a of c.attrs) {
    const v = el.attrs.get(a.name);
    if (v === undefined) return false;
    if (!a.op) continue;
    const want = a.value ?? '';
    const ok =
      a.op === '=' ? v === want
      : a.op === '~=' ? v.split(/\s+/).includes(want)
      : a.op === '^=' ? want !== '' && v.startsWith(want)
      : a.op === '$=' ? want !== '' && v.endsWith(want)
      : a.op === '*=' ? want !== '' && v.includes(want)
      : v === want || v.startsWith(`${want}-`);
    if (!ok) return false;
  }
  return true;
}

function matchesSteps(el: HtmlElement, steps: Step[], idx: number): boolean {
  if (!matchesCompound(el, steps[idx]!.compound)) return false;
  if (idx === 0) return true;
  const comb = steps[idx]!.combinator;
  if (comb === '>') return !!el.parent && el.parent.tag !== '#root' && matchesSteps(el.parent, steps, idx - 1);
  for (let p = el.parent; p && p.tag !== '#root'; p = p.parent) if (matchesSteps(p, steps, idx - 1)) return true;
  return false;
}

/** Every element matching `selector`, in document order (like querySelectorAll). */
export function selectAll(root: HtmlElement, selector: string): HtmlElement[] {
  const lists = parseSelector(selector);
  const out: HtmlElement[] = [];
  const walk = (el: HtmlElement) => {
    for (const ch of el.children) {
      if (lists.some((steps) => matchesSteps(ch, steps, steps.length - 1))) out.push(ch);
      walk(ch);
    }
  };
  walk(root);
  return out;
}
