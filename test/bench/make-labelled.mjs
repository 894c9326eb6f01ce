// Builds the labelled DOI-matching set in test/fixtures/labelled/ from real records:
//  - positives: Crossref records of test/fixtures/corpus (real metadata), written as a researcher
//    would cite them (their own title case, braces, abbreviated venues, "and others", a year off by
//    one where print and online dates differ). Label: the record's DOI.
//  - confusers in the corpus itself: corrections, retraction notices, peer reviews and replies whose
//    original is NOT in the corpus (an entry for the original must not get the notice's DOI), and
//    same-title works by other authors.
//  - negatives: real entries of the fixture .bib files (written by researchers), whose works are not
//    in the corpus. Label: null (the right answer is "not found", at most "review").
// Deterministic: a seeded PRNG, so the file only changes when this script does.
// Usage: node test/bench/make-labelled.mjs
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpusPath = path.join(root, 'test/fixtures/corpus/crossref-works.jsonl');
const works = readFileSync(corpusPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

let seed = 20261126;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const pick = (arr) => arr[Math.floor(rand() * arr.length)];

const year = (w) => (w.issued?.['date-parts']?.[0]?.[0]) ?? (w.published?.['date-parts']?.[0]?.[0]);
const onlineYear = (w) => w['published-online']?.['date-parts']?.[0]?.[0];
const printYear = (w) => w['published-print']?.['date-parts']?.[0]?.[0];
const strip = (s) => s.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();

const ACCENTS = { 'é': "{\\'e}", 'è': '{\\`e}', 'ü': '{\\"u}', 'ö': '{\\"o}', 'ä': '{\\"a}', 'ñ': '{\\~n}', 'ç': '{\\c c}', 'á': "{\\'a}", 'í': "{\\'i}", 'ó': "{\\'o}", 'ø': '{\\o}', 'å': '{\\aa}', 'ß': '{\\ss}' };
const latexify = (s) => s.replace(/[éèüöäñçáíóøåß]/g, (c) => ACCENTS[c]).replace(/&/g, '\\&').replace(/%/g, '\\%').replace(/\$/g, '\\$').replace(/_/g, '\\_').replace(/#/g, '\\#');

function abbreviateVenue(v) {
  const stop = new Set(['of', 'the', 'and', 'on', 'in', 'for']);
  return v
    .split(/\s+/)
    .filter((t) => !stop.has(t.toLowerCase()))
    .map((t) => (t.length > 5 ? `${t.slice(0, 4)}.` : t))
    .join(' ');
}

function titleVariant(t) {
  const r = rand();
  if (r < 0.35) return t;
  if (r < 0.55) return t.replace(/\b([A-Z]{2,}[a-z]*)\b/g, '{$1}'); // protect acronyms, BibTeX style
  if (r < 0.7) return t.toLowerCase().replace(/^./, (c) => c.toUpperCase()); // sentence case
  if (r < 0.8) {
    const m = /^(.{15,}?):\s/.exec(t); // drop the subtitle
    return m ? m[1] : t;
  }
  if (r < 0.9) return t.replace(/[,;]/g, ''); // punctuation lost
  return t.replace(/\s-\s/g, ' -- ');
}

function authorsField(authors) {
  const named = authors.filter((a) => a.family);
  if (!named.length) return undefined;
  const r = rand();
  const fmt = (a) => (a.given ? (rand() < 0.5 ? `${a.family}, ${a.given}` : `${a.given} ${a.family}`) : `{${a.family}}`);
  if (named.length > 3 && r < 0.3) return `${named.slice(0, 1).map(fmt).join(' and ')} and others`;
  if (named.length > 5 && r < 0.6) return `${named.slice(0, 3).map(fmt).join(' and ')} and others`;
  return named.map(fmt).join(' and ');
}

const TYPE = { 'journal-article': 'article', 'proceedings-article': 'inproceedings', 'book-chapter': 'incollection', 'posted-content': 'misc', report: 'techreport', monograph: 'book', book: 'book', dissertation: 'phdthesis' };

function entryFor(w, key) {
  const title = strip(w.title?.[0] ?? '');
  const type = TYPE[w.type] ?? 'misc';
  const fields = [];
  const author = authorsField(w.author ?? []);
  if (author) fields.push(['author', latexify(author)]);
  fields.push(['title', latexify(titleVariant(title))]);
  let y = year(w);
  // Researchers often cite the online year where Crossref's issued date is the print one, or vice
  // versa (one year apart; a backfile digitised decades later is not how anyone cites a paper).
  if (onlineYear(w) && printYear(w) && Math.abs(onlineYear(w) - printYear(w)) === 1 && rand() < 0.5) y = y === onlineYear(w) ? printYear(w) : onlineYear(w);
  if (y) fields.push(['year', String(y)]);
  const venue = w['container-title']?.[0];
  if (venue) {
    const short = w['short-container-title']?.[0];
    const v = short && rand() < 0.4 ? short : rand() < 0.2 ? abbreviateVenue(venue) : venue;
    fields.push([type === 'article' ? 'journal' : type === 'misc' ? 'howpublished' : 'booktitle', latexify(strip(v))]);
  }
  if (w.volume && rand() < 0.6) fields.push(['volume', w.volume]);
  if (w.page && rand() < 0.5) fields.push(['pages', w.page.replace('-', '--')]);
  if (w.publisher && type !== 'article' && rand() < 0.5) fields.push(['publisher', latexify(w.publisher)]);
  return `@${type}{${key},\n${fields.map(([k, v]) => `  ${k} = {${v}}`).join(',\n')}\n}\n`;
}

const usable = (w) => w.title?.[0] && strip(w.title[0]).length >= 12 && year(w) && !['journal', 'journal-issue', 'component', 'peer-review', 'dataset', 'standard'].includes(w.type);
const NOTICE = /^(correction|corrigendum|erratum|retracted|retraction|review for|decision letter|author response|reply|comment)/i;

const out = [];
const labels = {};
let n = 0;
const add = (bib, key, doi, kind) => {
  out.push(bib);
  labels[key] = { doi, kind };
};

// Positives.
const positives = works.filter((w) => usable(w) && !NOTICE.test(strip(w.title[0])));
const chosen = new Set();
while (chosen.size < Math.min(500, positives.length)) chosen.add(pick(positives));
for (const w of chosen) {
  const key = `pos${++n}`;
  add(entryFor(w, key), key, w.DOI.toLowerCase(), w.type === 'posted-content' ? 'preprint' : 'positive');
}

// Confusers: the original of a notice whose original is not in the corpus.
const byDoi = new Map(works.map((w) => [w.DOI.toLowerCase(), w]));
for (const w of works) {
  const t = strip(w.title?.[0] ?? '');
  const m = /^(?:correction:\s*|corrigendum to\s*|erratum to\s*|erratum:\s*|retracted:\s*|review for\s*|decision letter for\s*|author response for\s*)["“]?(.{15,}?)["”]?$/i.exec(t);
  if (!m) continue;
  const target = (w.relation?.['is-review-of'] ?? []).concat(w['update-to'] ?? []).map((r) => (r.id ?? r.DOI ?? '').toLowerCase());
  if (target.some((d) => byDoi.has(d))) continue;
  const key = `notice${++n}`;
  const fake = { ...w, title: [m[1]], type: 'journal-article' };
  const bib = entryFor(fake, key).replace(/^@misc/, '@article');
  add(bib, key, null, 'confuser-notice');
}

// Same title, other authors: keep the real one as positive with full authors (already covered), and
// an entry with the title but a different author list must not be accepted.
const byTitle = new Map();
for (const w of works.filter(usable)) {
  const t = strip(w.title[0]).toLowerCase();
  byTitle.set(t, [...(byTitle.get(t) ?? []), w]);
}
for (const [, group] of byTitle) {
  if (group.length < 2) continue;
  for (const w of group) {
    const key = `same${++n}`;
    add(entryFor({ ...w, title: [strip(w.title[0])] }, key), key, w.DOI.toLowerCase(), 'same-title');
  }
}

// Negatives: real researcher-written entries from the fixture .bib files.
const bibDir = path.join(root, 'test/fixtures/bib');
const negatives = [];
for (const f of readdirSync(bibDir).filter((x) => x.endsWith('.bib')).sort()) {
  const text = readFileSync(path.join(bibDir, f), 'utf8');
  for (const m of text.matchAll(/^@(article|inproceedings)\s*\{\s*([^,\s]+)\s*,([\s\S]*?)^\}/gim)) {
    const body = m[3];
    if (!/\btitle\s*=/i.test(body) || !/\bauthor\s*=/i.test(body) || /@string|#|\n\s*@/i.test(body)) continue;
    if (/\bdoi\s*=\s*[{"]([^}"]+)/i.test(body) && byDoi.has(/\bdoi\s*=\s*[{"]([^}"]+)/i.exec(body)[1].trim().toLowerCase())) continue;
    negatives.push(`@${m[1]}{NEGKEY,${body.replace(/^\s*(doi|url|eprint|archiveprefix|primaryclass|arxivid|pmid)\s*=.*$/gim, '')}}\n`);
  }
}
for (let i = 0; i < 300 && negatives.length; i++) {
  const j = Math.floor(rand() * negatives.length);
  const key = `neg${++n}`;
  add(negatives.splice(j, 1)[0].replace('NEGKEY', key), key, null, 'negative');
}

const header = `% Labelled DOI-matching set, generated by test/bench/make-labelled.mjs from real records:\n% test/fixtures/corpus (Crossref records, see its README) and test/fixtures/bib (see its index.json).\n\n`;
writeFileSync(path.join(root, 'test/fixtures/labelled/labelled.bib'), header + out.join('\n'));
writeFileSync(path.join(root, 'test/fixtures/labelled/labels.json'), JSON.stringify(labels, null, 1) + '\n');
const kinds = {};
for (const l of Object.values(labels)) kinds[l.kind] = (kinds[l.kind] ?? 0) + 1;
console.log(JSON.stringify({ entries: out.length, kinds }));
