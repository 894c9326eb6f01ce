/**
 * Citation keys from a pattern in JabRef's bracket syntax, which Better BibTeX also reads (its
 * "legacy" formulas): `[auth:lower][year][shorttitle]` by default. Field markers: auth, authors,
 * authorsN, authN_M, authIni, year, shorttitle, shorttitleN, veryshorttitle, title, firstpage,
 * journal, doi; modifiers :lower, :upper, :capitalize, :abbr. Text outside brackets is literal.
 * Keys are folded to ASCII letters, digits and `-_:.`; one taken in the file gets a, b, … aa.
 */
import { ScholarError } from '../errors';
import type { BibRecord } from './record';

export const DEFAULT_KEY_PATTERN = '[auth:lower][year][shorttitle]';

// JabRef's list of words `shorttitle` and `veryshorttitle` skip.
const FUNCTION_WORDS = new Set(
  'a an the above about across against along among around at before behind below beneath beside between beyond by down during except for from in inside into like near of off on onto since to toward through under until up upon with within without and but nor or so yet'.split(' '),
);

/** ASCII letters and digits only: accents dropped, ß → ss, everything else removed. */
function fold(s: string): string {
  return s
    .replace(/ß/g, 'ss')
    .replace(/[æÆ]/g, 'ae')
    .replace(/[œŒ]/g, 'oe')
    .replace(/[øØ]/g, 'o')
    .replace(/[łŁ]/g, 'l')
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9]+/g, '');
}

function words(title: string): string[] {
  return title
    .replace(/<[^>]+>/g, ' ')
    .split(/[\s\-–—:;,.!?/()[\]"“”'‘’]+/)
    .map(fold)
    .filter(Boolean);
}

const capitalize = (w: string) => (w ? w[0].toUpperCase() + w.slice(1).toLowerCase() : w);

function significant(title: string): string[] {
  return words(title).filter((w) => !FUNCTION_WORDS.has(w.toLowerCase()));
}

function marker(name: string, rec: BibRecord): string {
  const fam = rec.authors.map((a) => fold(a.particle ? `${a.particle}${a.family}` : a.family)).filter(Boolean);
  let m: RegExpExecArray | null;
  if (name === 'auth') return fam[0] ?? '';
  if (name === 'authors') return fam.join('');
  if ((m = /^authors(\d+)$/.exec(name))) {
    const n = Number(m[1]);
    return fam.slice(0, n).join('') + (fam.length > n ? 'EtAl' : '');
  }
  if ((m = /^auth(\d+)_(\d+)$/.exec(name))) return (fam[Number(m[2]) - 1] ?? '').slice(0, Number(m[1]));
  if ((m = /^auth(\d+)$/.exec(name))) return (fam[0] ?? '').slice(0, Number(m[1]));
  if (name === 'authIni' || name === 'authini') return fam.map((f) => f[0]).join('');
  if (name === 'authEtAl' || name === 'authetal') return fam.length > 2 ? `${fam[0]}EtAl` : fam.join('And');
  if (name === 'year') return rec.year ? String(rec.year) : '';
  if (name === 'shortyear') return rec.year ? String(rec.year).slice(-2) : '';
  if (name === 'shorttitle') return significant(rec.title).slice(0, 3).map(capitalize).join('');
  if ((m = /^shorttitle(\d+)$/.exec(name))) return significant(rec.title).slice(0, Number(m[1])).map(capitalize).join('');
  if (name === 'veryshorttitle') return significant(rec.title).slice(0, 1).join('');
  if (name === 'title') return words(rec.title).map(capitalize).join('');
  if (name === 'firstpage') return (rec.pages ?? '').split('-')[0].replace(/[^A-Za-z0-9]/g, '');
  if (name === 'lastpage') return (rec.pages ?? '').split('-').pop()!.replace(/[^A-Za-z0-9]/g, '');
  if (name === 'journal') return words(rec.container ?? '').map(capitalize).join('');
  if (name === 'doi') return (rec.doi ?? '').replace(/[^A-Za-z0-9._:/-]/g, '');
  throw new ScholarError('E_KEY_PATTERN', `unknown field marker [${name}] in the key pattern`, { name });
}

function modify(s: string, mod: string): string {
  switch (mod) {
    case 'lower':
      return s.toLowerCase();
    case 'upper':
      return s.toUpperCase();
    case 'capitalize':
      return capitalize(s);
    case 'abbr':
      return s.replace(/([A-Z])[a-z0-9]*/g, '$1');
    default:
      throw new ScholarError('E_KEY_PATTERN', `unknown modifier :${mod} in the key pattern`, { mod });
  }
}

/** Checks a pattern without a record; throws E_KEY_PATTERN with the reason. */
export function validateKeyPattern(pattern: string): void {
  if (!/\[[^\]]+\]/.test(pattern)) throw new ScholarError('E_KEY_PATTERN', 'the key pattern has no field marker such as [auth]');
  if (/\[[^\]]*\[|\][^[]*\]/.test(pattern.replace(/\[[^\][]*\]/g, ''))) throw new ScholarError('E_KEY_PATTERN', 'unbalanced [ ] in the key pattern');
  keyFromPattern(pattern, { source: 'doi', type: 'misc', title: 'A title', authors: [{ family: 'Name' }], editors: [], years: [2000], year: 2000, issn: [], isbn: [], updates: [] });
}

/** The key the pattern gives this record, before uniqueness. Never empty: falls back to `ref`. */
export function keyFromPattern(pattern: string, rec: BibRecord): string {
  let out = '';
  const re = /\[([^\]]+)\]|([^[]+)/g;
  for (let m = re.exec(pattern); m; m = re.exec(pattern)) {
    if (m[2] !== undefined) {
      out += m[2];
      continue;
    }
    const [name, ...mods] = m[1].split(':');
    let v = marker(name.trim(), rec);
    for (const mod of mods) v = modify(v, mod.trim());
    out += v;
  }
  // Characters BibTeX, biber and file systems all accept in a key.
  const key = out.replace(/[^A-Za-z0-9_:.+-]/g, '');
  return key || 'ref';
}

/** `base`, else base + a … z, aa, ab …: the first not in `taken` (compared case-insensitively, as BibTeX does). */
export function uniqueKey(base: string, taken: (k: string) => boolean): string {
  if (!taken(base)) return base;
  for (let i = 0; ; i++) {
    let suffix = '';
    let n = i;
    do {
      suffix = String.fromCharCode(97 + (n % 26)) + suffix;
      n = Math.floor(n / 26) - 1;
    } while (n >= 0);
    if (!taken(base + suffix)) return base + suffix;
  }
}
