// Builds the labelled DOI-matching set in test/fixtures/labelled/ from real records:
//  - positives: Crossref records of test/fixtures/corpus (real metadata), written as a researcher
//    would cite them (their own title case, braces, abbreviated venues, "and others", a year off by
//    one where print and online dates differ). Label: the record's DOI.
//  - confusers in the corpus itself: corrections, retraction notices, peer reviews and replies whose
//    original is NOT in the corpus (an entry for the original must not get the notice's DOI), and
//    same-title works by other authors.
//  - negatives: real entries of the fixture .bib files (written by researchers), whose works are not
//    in the corpus. Label: null (the right answer is "not found", at most "review").
//  - versions (issue 14): the corpus's own preprint/published relations (is-preprint-of,
//    has-preprint). Where one side of a relation is missing from the corpus, a twin record is derived
//    from the side that is there (same title and authors, the related DOI, the other version's type,
//    year and venue) for half of the pairs, into version-twins.jsonl, which the matching benchmark
//    serves beside the corpus; the other half stay one-sided. Entries cite each side the way
//    researchers cite preprints (journal = {bioRxiv}, howpublished = {Research Square}, Copernicus
//    Discussions …) and journal articles. Citing a side that is not served: label null.
//  - arXiv citations of published works: corpus works the replay puts on arXiv, cited by their
//    arXiv id (eprint, journal = {arXiv preprint arXiv:…}, an arXiv URL, DBLP's CoRR). Label: the
//    arXiv DOI 10.48550/arxiv.<id>.
//  - existing DOIs: real works cited with a truncated, mistyped, transposed, nonexistent or another
//    work's DOI (label: the right DOI, which --fix-existing should write), and with their right DOI
//    (label: that DOI; it must be left alone), and with the other version's DOI (label: the cited version's).
// Every key is assigned to a tuning share or a held-out share (about 30 %) by a hash of the key;
// no threshold is tuned on the held-out share, and the reported figures are its figures.
// Deterministic: a seeded PRNG, so the file only changes when this script does.
// Usage: node test/bench/make-labelled.mjs
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
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
const heldOut = (key) => createHash('sha1').update(`heldout:${key}`).digest().readUInt32BE(0) % 10 < 3;
const add = (bib, key, doi, kind, extra = {}) => {
  out.push(bib);
  labels[key] = { doi, kind, split: heldOut(key) ? 'heldout' : 'tuning', ...extra };
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

// ---------------------------------------------------------------------------------------------
// Versions: preprint/published pairs from the corpus's own relations.
const twins = [];
const COPERNICUS = { acp: 'Atmos. Chem. Phys. Discuss.', cp: 'Clim. Past Discuss.', essd: 'Earth Syst. Sci. Data Discuss.', hess: 'Hydrol. Earth Syst. Sci. Discuss.', bg: 'Biogeosciences Discuss.', tc: 'The Cryosphere Discuss.', gmd: 'Geosci. Model Dev. Discuss.', amt: 'Atmos. Meas. Tech. Discuss.' };
const PREPRINT_PREFIX = [
  [/^10\.1101\//, (d) => (/^10\.1101\/\d{4}\.\d{2}\.\d{2}\.2\d{7}/.test(d) ? 'medRxiv' : 'bioRxiv'), 'Cold Spring Harbor Laboratory'],
  [/^10\.21203\//, () => 'Research Square', 'Research Square Platform LLC'],
  [/^10\.1002\/essoar/, () => 'ESS Open Archive', 'Wiley'],
  [/^10\.2139\/ssrn/, () => 'SSRN', 'Elsevier BV'],
  [/^10\.26434\/chemrxiv/, () => 'ChemRxiv', 'American Chemical Society (ACS)'],
  [/^10\.5194\//, (d) => COPERNICUS[/^10\.5194\/([a-z]+)-/.exec(d)?.[1]] ?? 'Copernicus Discussions', 'Copernicus GmbH'],
  [/^10\.31223\//, () => 'EarthArXiv', 'California Digital Library (CDL)'],
  [/^10\.20944\//, () => 'Preprints.org', 'MDPI AG'],
];
const serverOf = (doi) => PREPRINT_PREFIX.find(([re]) => re.test(doi));

/** A preprint cited as researchers cite preprints: the server named as journal, howpublished or note. */
function preprintEntryFor(w, key, server) {
  const title = strip(w.title?.[0] ?? '');
  const fields = [];
  const author = authorsField(w.author ?? []);
  if (author) fields.push(['author', latexify(author)]);
  fields.push(['title', latexify(titleVariant(title))]);
  const y = year(w);
  if (y) fields.push(['year', String(y)]);
  const r = rand();
  let type = 'article';
  if (/Discuss\./.test(server) || r < 0.45) fields.push(['journal', server]); // Google Scholar's and Copernicus's form
  else if (r < 0.75) {
    type = 'misc';
    fields.push(['howpublished', server], ['note', 'Preprint']);
  } else {
    type = 'unpublished';
    fields.push(['note', `Preprint at ${server}`]);
  }
  if (rand() < 0.4 && w.publisher) fields.push(['publisher', latexify(w.publisher)]);
  return `@${type}{${key},\n${fields.map(([k, v]) => `  ${k} = {${v}}`).join(',\n')}\n}\n`;
}

// Who registers a DOI prefix (Crossref's members): the publisher of a published twin.
const PUBLISHER_OF_PREFIX = { '10.1186': 'Springer Science and Business Media LLC', '10.1029': 'American Geophysical Union (AGU)', '10.5194': 'Copernicus GmbH', '10.1016': 'Elsevier BV', '10.1038': 'Springer Science and Business Media LLC', '10.1371': 'Public Library of Science (PLoS)', '10.1002': 'Wiley' };

function twinOf(w, otherDoi, otherIsPreprint) {
  const y = year(w);
  const base = {
    DOI: otherDoi,
    title: w.title,
    author: w.author,
    publisher: otherIsPreprint ? (serverOf(otherDoi)?.[2] ?? w.publisher) : (PUBLISHER_OF_PREFIX[otherDoi.split('/')[0]] ?? 'Replay Publisher'),
    'scholar-derived-from': w.DOI,
  };
  if (otherIsPreprint) {
    const server = serverOf(otherDoi)?.[1](otherDoi) ?? 'Preprint server';
    return { ...base, type: 'posted-content', subtype: 'preprint', institution: [{ name: server }], issued: { 'date-parts': [[y ? y - 1 : 2019]] }, relation: { 'is-preprint-of': [{ 'id-type': 'doi', id: w.DOI, 'asserted-by': 'subject' }] } };
  }
  // The journal's name is not in the preprint's record: a name of the publisher's is made up for it.
  // (Research Square's group title, "In Review", is not a subject.)
  const subject = w['group-title'] && !/in review/i.test(w['group-title']) ? strip(w['group-title']) : 'Published Research';
  const journal = `${base.publisher.replace(/\s*\(.*\)|\s+(BV|LLC|GmbH|Inc\.?)$/g, '')} Journal of ${subject}`;
  return { ...base, type: 'journal-article', 'container-title': [journal], volume: String(((y ?? 2020) % 50) + 1), issued: { 'date-parts': [[y ? y + 1 : 2021]] }, relation: { 'has-preprint': [{ 'id-type': 'doi', id: w.DOI, 'asserted-by': 'object' }] } };
}

const edges = [];
for (const w of works) {
  if (!usable(w)) continue;
  for (const [rel, isPreprintSide] of [['has-preprint', false], ['is-preprint-of', true]]) {
    for (const r of w.relation?.[rel] ?? []) {
      if (r['id-type'] !== 'doi') continue;
      const other = String(r.id).toLowerCase();
      // Zenodo/figshare "preprints" are deposits, not a preprint server's records.
      if (/^10\.(5281|6084)\//.test(other) || /^10\.48550\//.test(other)) continue;
      if (!isPreprintSide && !serverOf(other)) continue;
      edges.push({ w, other, wIsPreprint: isPreprintSide });
    }
  }
}
let pairNo = 0;
const seenPair = new Set();
const servedPairs = [];
for (const { w, other, wIsPreprint } of edges) {
  const id = [w.DOI.toLowerCase(), other].sort().join(' ');
  if (seenPair.has(id)) continue;
  seenPair.add(id);
  const both = byDoi.has(other);
  const twin = !both && pairNo++ % 2 === 0;
  const otherRec = both ? byDoi.get(other) : twinOf(w, other, !wIsPreprint);
  if (twin) twins.push(otherRec);
  const served = both || twin;
  const pre = wIsPreprint ? w : otherRec;
  const pub = wIsPreprint ? otherRec : w;
  const server = serverOf(pre.DOI.toLowerCase())?.[1](pre.DOI.toLowerCase()) ?? pre.institution?.[0]?.name ?? 'Preprint';
  if (served) servedPairs.push({ pre, pub, server });
  const preServed = wIsPreprint || served;
  const pubServed = !wIsPreprint || served;
  // Two citations of each side, each written its own way.
  for (let v = 0; v < 2; v++) {
    const kPre = `verpre${++n}`;
    add(preprintEntryFor(pre, kPre, server), kPre, preServed ? pre.DOI.toLowerCase() : null, served ? 'version-cites-preprint' : preServed ? 'version-cites-preprint-one-sided' : 'version-cites-unserved-preprint', { other: pub.DOI.toLowerCase() });
    const kPub = `verpub${++n}`;
    add(entryFor({ ...pub, type: 'journal-article' }, kPub), kPub, pubServed ? pub.DOI.toLowerCase() : null, served ? 'version-cites-published' : pubServed ? 'version-cites-published-one-sided' : 'version-cites-unserved-published', { other: pre.DOI.toLowerCase() });
  }
}

// ---------------------------------------------------------------------------------------------
// arXiv citations of published works. The replay puts a deterministic share of the corpus on arXiv
// (src/replay/corpus.ts: posted content, and every work whose DOI hash is 0 mod 5), with ids shaped
// like real ones; the same rule picks them here.
function replayArxivId(w) {
  const h = createHash('sha1').update(w.DOI.toLowerCase()).digest().readUInt32BE(0);
  if (!(w.type === 'posted-content' || h % 5 === 0)) return undefined;
  const y = Math.min(Math.max(year(w) ?? 2015, 2008), 2099) % 100;
  return `${String(y).padStart(2, '0')}${String((h % 12) + 1).padStart(2, '0')}.${String(h % 100000).padStart(5, '0')}`;
}
const onArxiv = works.filter((w) => w.type === 'journal-article' && usable(w) && !NOTICE.test(strip(w.title[0])) && replayArxivId(w) && !chosen.has(w));
for (let i = 0; i < 60 && onArxiv.length; i++) {
  const w = onArxiv.splice(Math.floor(rand() * onArxiv.length), 1)[0];
  const id = replayArxivId(w);
  const key = `arxiv${++n}`;
  const title = latexify(titleVariant(strip(w.title[0])));
  const author = latexify(authorsField(w.author ?? []) ?? 'Anonymous');
  const y = year(w);
  const r = rand();
  let bib;
  if (r < 0.3) bib = `@article{${key},\n  author = {${author}},\n  title = {${title}},\n  journal = {arXiv preprint arXiv:${id}},\n  year = {${y}}\n}\n`;
  else if (r < 0.6) bib = `@misc{${key},\n  author = {${author}},\n  title = {${title}},\n  year = {${y}},\n  eprint = {${id}},\n  archivePrefix = {arXiv},\n  primaryClass = {cs.DL}\n}\n`;
  else if (r < 0.8) bib = `@article{${key},\n  author = {${author}},\n  title = {${title}},\n  journal = {CoRR},\n  volume = {abs/${id}},\n  year = {${y}},\n  url = {https://arxiv.org/abs/${id}},\n  eprinttype = {arXiv},\n  eprint = {${id}}\n}\n`;
  else bib = `@online{${key},\n  author = {${author}},\n  title = {${title}},\n  date = {${y}},\n  url = {https://arxiv.org/abs/${id}v2}\n}\n`;
  add(bib, key, `10.48550/arxiv.${id}`, 'arxiv-cited', { published: w.DOI.toLowerCase() });
}

// ---------------------------------------------------------------------------------------------
// Existing DOIs: wrong ones (the label is the right DOI, written by --fix-existing), and right ones.
const withDoi = (bib, doi) => bib.replace(/\n\}\n$/, `,\n  doi = {${doi}}\n}\n`);
const fresh = positives.filter((w) => !chosen.has(w) && !/^10\.48550\//i.test(w.DOI));
const takeFresh = () => fresh.splice(Math.floor(rand() * fresh.length), 1)[0];
const mutate = {
  truncated: (d) => d.slice(0, d.length - 1 - Math.floor(rand() * 3)),
  transposed: (d) => {
    const suffix = d.indexOf('/') + 1;
    const spots = [];
    for (let i = suffix; i < d.length - 1; i++) if (/\d/.test(d[i]) && /\d/.test(d[i + 1]) && d[i] !== d[i + 1]) spots.push(i);
    if (!spots.length) return undefined;
    const i = pick(spots);
    return d.slice(0, i) + d[i + 1] + d[i] + d.slice(i + 2);
  },
  typo: (d) => {
    const suffix = d.indexOf('/') + 1;
    const i = suffix + Math.floor(rand() * (d.length - suffix));
    const c = d[i];
    const r = /\d/.test(c) ? String((Number(c) + 1 + Math.floor(rand() * 8)) % 10) : /[a-z]/.test(c) ? String.fromCharCode(97 + ((c.charCodeAt(0) - 97 + 1 + Math.floor(rand() * 24)) % 26)) : 'x';
    return d.slice(0, i) + r + d.slice(i + 1);
  },
  nonexistent: (d) => `${d.split('/')[0]}/${createHash('sha1').update(d).digest('hex').slice(0, 10)}`,
};
for (const [how, f] of Object.entries(mutate)) {
  for (let i = 0; i < 15 && fresh.length; i++) {
    const w = takeFresh();
    const wrong = f(w.DOI);
    if (!wrong || wrong.toLowerCase() === w.DOI.toLowerCase()) continue;
    // A mutation that happens to hit another real DOI is that other work's DOI.
    const kind = byDoi.has(wrong.toLowerCase()) ? 'existing-another-work' : `existing-${how}`;
    const key = `exist${++n}`;
    add(withDoi(entryFor(w, key), wrong), key, w.DOI.toLowerCase(), kind, { inputDoi: wrong });
  }
}
for (let i = 0; i < 15 && fresh.length > 1; i++) {
  const w = takeFresh();
  const other = takeFresh();
  const key = `exist${++n}`;
  add(withDoi(entryFor(w, key), other.DOI), key, w.DOI.toLowerCase(), 'existing-another-work', { inputDoi: other.DOI });
}
for (let i = 0; i < 40 && fresh.length; i++) {
  const w = takeFresh();
  const key = `exist${++n}`;
  add(withDoi(entryFor(w, key), rand() < 0.3 ? `https://doi.org/${w.DOI}` : w.DOI), key, w.DOI.toLowerCase(), 'existing-right', { inputDoi: w.DOI });
}
// The other version's DOI on a citation of one version (both versions served): label the cited one's.
for (const { pre, pub, server } of servedPairs) {
  const kp = `exist${++n}`;
  add(withDoi(preprintEntryFor(pre, kp, server), pub.DOI), kp, pre.DOI.toLowerCase(), 'existing-other-version', { inputDoi: pub.DOI, other: pub.DOI.toLowerCase() });
  const kj = `exist${++n}`;
  add(withDoi(entryFor({ ...pub, type: 'journal-article' }, kj), pre.DOI), kj, pub.DOI.toLowerCase(), 'existing-other-version', { inputDoi: pre.DOI, other: pre.DOI.toLowerCase() });
}

// ---------------------------------------------------------------------------------------------
// Forms: a technical report, a thesis, a conference paper or a working paper is another version
// than the journal article of the same title and authors (the real bibliography's
// nau04:applicSHOP2, a 2004 report, got its 2005 article's DOI). Built from real records: corpus
// journal articles cited as the report, thesis, conference paper or working paper they may have
// come from (a year or two before, or the same year; label null: the served record is another
// form), the corpus's real reports and conference papers cited as the journal article they may have
// become (label null), and the true cases that must keep working: the real reports (NBER, OSTI,
// DTIC, NIST, USGS …), dissertations and conference papers cited as themselves, conference papers
// that proceedings-like journals register as journal articles (Procedia, IFAC Proceedings Volumes,
// IOP Conference Series, SIGMETRICS PER with its is-identical-to relation), journal articles cited
// with a year off by one, and pairs with both forms served (a real report or conference paper, and
// a derived journal-article twin with a 10.5555 test DOI, into version-twins.jsonl).
const formWorks = works.filter((w) => usable(w) && !NOTICE.test(strip(w.title[0])) && (w.author ?? []).some((a) => a.family) && !chosen.has(w) && !/^10\.48550\//i.test(w.DOI));
// Articles with a preprint in the corpus are left out: an earlier version of those is served already.
const formFresh = formWorks.filter((w) => w.type === 'journal-article' && fresh.includes(w) && !(w.relation?.['has-preprint'] ?? []).length);
const takeForm = () => formFresh.splice(Math.floor(rand() * formFresh.length), 1)[0];
const fieldsText = (type, key, fields) => `@${type}{${key},\n${fields.filter(([, v]) => v).map(([k, v]) => `  ${k} = {${v}}`).join(',\n')}\n}\n`;
const earlier = (y) => (y ? (rand() < 0.7 ? y - 1 : rand() < 0.5 ? y : y - 2) : undefined);
const affiliationOf = (w) => strip(w.author?.find((a) => a.affiliation?.[0]?.name)?.affiliation[0].name ?? '') || undefined;
// The record's subject, never its venue: a made-up conference or journal named after the real venue would agree with it.
const subjectOf = (w) => strip(w.subject?.[0] ?? 'Applied Research').replace(/\s*\(.*\)$/, '');
const ordinal = (k) => `${k}${['th', 'st', 'nd', 'rd'][k % 100 > 10 && k % 100 < 14 ? 0 : k % 10 < 4 ? k % 10 : 0]}`;
const head = (w) => [['author', latexify(authorsField(w.author ?? []) ?? '')], ['title', latexify(titleVariant(strip(w.title[0])))]];

const formEntry = {
  report: (w, key) => fieldsText('techreport', key, [...head(w), ['institution', latexify(affiliationOf(w) ?? `Department of ${subjectOf(w)}, ${w.publisher ?? 'University'}`)], ['number', `TR-${earlier(year(w))}-${(createHash('sha1').update(key).digest().readUInt16BE(0) % 90) + 10}`], ['year', String(earlier(year(w)) ?? '')]]),
  thesis: (w, key) => fieldsText(rand() < 0.7 ? 'phdthesis' : 'mastersthesis', key, [['author', latexify(authorsField((w.author ?? []).slice(0, 1)) ?? '')], ['title', latexify(titleVariant(strip(w.title[0])))], ['school', latexify(affiliationOf(w) ?? 'University')], ['year', String(earlier(year(w)) ?? '')]]),
  conference: (w, key) => fieldsText('inproceedings', key, [...head(w), ['booktitle', latexify(`Proceedings of the ${ordinal(5 + Math.floor(rand() * 30))} International Conference on ${subjectOf(w)}`)], ['year', String(earlier(year(w)) ?? '')]]),
  workingPaper: (w, key) => {
    const r = rand();
    const y = String(earlier(year(w)) ?? '');
    if (r < 0.4) return fieldsText('misc', key, [...head(w), ['howpublished', 'Working paper'], ['year', y]]);
    if (r < 0.7) return fieldsText('techreport', key, [...head(w), ['institution', latexify(affiliationOf(w) ?? w.publisher ?? 'University')], ['type', 'Working Paper'], ['number', String(100 + Math.floor(rand() * 900))], ['year', y]]);
    return fieldsText('misc', key, [...head(w), ['note', 'Unpublished manuscript'], ['year', y]]);
  },
};
// Made up for the missing side: a publisher's name and the record's subject.
const journalOf = (w) => `${(w.publisher ?? 'Replay').replace(/\s*\(.*\)|\s+(BV|LLC|GmbH|Inc\.?|Ltd\.?)$/g, '')} Journal of ${subjectOf(w)}`;
/** A real report or conference paper cited as the journal article it may have become (a year later, another venue). */
const asLaterArticle = (w, key) => fieldsText('article', key, [...head(w), ['journal', latexify(journalOf(w))], ['volume', String(((year(w) ?? 2000) % 40) + 1)], ['year', String((year(w) ?? 2000) + (rand() < 0.8 ? 1 : 2))]]);
/** A real report as its own: institution, number, type as reports are cited. */
const asReport = (w, key) => {
  const inst = strip(w.institution?.[0]?.name ?? w.publisher ?? '');
  const num = /^10\.3386\/w(\d+)$/i.exec(w.DOI)?.[1] ?? w.number ?? /\/([a-z]*[-.]?\d[\w.-]*)$/i.exec(w.DOI)?.[1];
  return fieldsText(rand() < 0.8 ? 'techreport' : 'report', key, [...head(w), ['institution', latexify(inst)], ['type', /nber|national bureau/i.test(inst) ? 'Working Paper' : undefined], ['number', num], ['year', String(year(w) ?? '')]]);
};

const formAdd = (bib, key, doi, kind, extra = {}) => add(bib, key, doi, `form-${kind}`, extra);
// Confusers: a journal article cited as the earlier report, thesis, conference paper or working paper.
for (const [kind, make, count] of [['report-of-article', formEntry.report, 30], ['thesis-of-article', formEntry.thesis, 20], ['conference-of-article', formEntry.conference, 25], ['workingpaper-of-article', formEntry.workingPaper, 20]]) {
  for (let i = 0; i < count && formFresh.length; i++) {
    const w = takeForm();
    const key = `form${++n}`;
    formAdd(make(w, key), key, null, kind, { other: w.DOI.toLowerCase() });
  }
}
const realReports = formWorks.filter((w) => w.type === 'report');
const realConfs = formWorks.filter((w) => w.type === 'proceedings-article');
// Each real report or conference paper is either one-sided (cited as the journal article it may have
// become: only the report is served) or paired (a derived journal article is served beside it), never both.
// By title: the corpus holds two OSTI reports of one title, and a one-sided one must not meet the other's twin.
const titleKey = (w) => strip(w.title[0]).toLowerCase();
const pairedBy = (list, share) => {
  const titles = new Set([...new Set(list.map(titleKey))].filter(() => rand() < share));
  return list.filter((w) => titles.has(titleKey(w)));
};
const pairedReports = pairedBy(realReports, 0.5);
const pairedConfs = pairedBy(realConfs, 0.2);
// Confusers the other way: a real report or conference paper cited as a later journal article.
for (const w of realReports.filter((x) => !pairedReports.includes(x))) {
  const key = `form${++n}`;
  formAdd(asLaterArticle(w, key), key, null, 'article-of-report', { other: w.DOI.toLowerCase() });
}
for (const w of realConfs.filter((x) => !pairedConfs.includes(x) && rand() < 0.3)) {
  const key = `form${++n}`;
  formAdd(asLaterArticle(w, key), key, null, 'article-of-conference', { other: w.DOI.toLowerCase() });
}
// True cases: each form cited as itself.
for (const w of realReports) {
  const key = `form${++n}`;
  formAdd(asReport(w, key), key, w.DOI.toLowerCase(), 'report-own-doi');
}
for (const w of works.filter((x) => x.type === 'dissertation' && x.title?.[0] && (x.author ?? []).some((a) => a.family))) {
  const key = `form${++n}`;
  const inst = strip(w.institution?.[0]?.name ?? w.publisher ?? '');
  formAdd(fieldsText('phdthesis', key, [...head(w), ['school', latexify(inst)], ['year', String(year(w) ?? '')]]), key, w.DOI.toLowerCase(), 'thesis-own-doi');
}
for (const w of realConfs.filter(() => rand() < 0.3)) {
  const key = `form${++n}`;
  formAdd(entryFor(w, key), key, w.DOI.toLowerCase(), 'conference-own-doi');
}
const PROC_JOURNAL = /procedia|proceedings volumes|conference series|symposium|conference|sigmetrics performance evaluation review/i;
for (const w of formWorks.filter((x) => x.type === 'journal-article' && PROC_JOURNAL.test(x['container-title']?.[0] ?? '') && !/national academy|american mathematical|royal society/i.test(x['container-title']?.[0] ?? ''))) {
  const key = `form${++n}`;
  const identical = (w.relation?.['is-identical-to'] ?? []).length > 0;
  // The proceedings paper identical to a PER article is cited by its conference's name.
  const booktitle = identical ? 'Proceedings of the 2014 ACM SIGMETRICS International Conference on Measurement and Modeling of Computer Systems' : strip(w['container-title'][0]);
  formAdd(fieldsText('inproceedings', key, [...head(w), ['booktitle', latexify(booktitle)], ['year', String(year(w) ?? '')], ['pages', w.page?.replace('-', '--')]]), key, w.DOI.toLowerCase(), 'conference-in-journal');
}
for (let i = 0; i < 25 && formFresh.length; i++) {
  const w = takeForm();
  const key = `form${++n}`;
  const y = year(w) + (rand() < 0.5 ? 1 : -1);
  formAdd(entryFor(w, key).replace(/ {2}year = \{\d+\}/, `  year = {${y}}`), key, w.DOI.toLowerCase(), 'article-year-off');
}
// Both forms served: a real report or conference paper, and a journal article derived from it.
let formTwinNo = 0;
for (const [kind, pool, cite] of [['report-and-article', pairedReports, asReport], ['conference-and-article', pairedConfs, (w, key) => entryFor(w, key)]]) {
  for (const w of pool) {
    const twin = { DOI: `10.5555/scholar-form-twin.${++formTwinNo}`, type: 'journal-article', title: w.title, author: w.author, publisher: 'Replay Publisher', 'container-title': [journalOf(w)], volume: String(((year(w) ?? 2000) % 40) + 1), issued: { 'date-parts': [[(year(w) ?? 2000) + 1]] }, 'scholar-derived-from': w.DOI };
    twins.push(twin);
    const k1 = `form${++n}`;
    formAdd(cite(w, k1), k1, w.DOI.toLowerCase(), kind, { other: twin.DOI.toLowerCase() });
    const k2 = `form${++n}`;
    formAdd(entryFor({ ...twin, title: w.title }, k2), k2, twin.DOI.toLowerCase(), kind, { other: w.DOI.toLowerCase() });
  }
}

const header = `% Labelled DOI-matching set, generated by test/bench/make-labelled.mjs from real records:\n% test/fixtures/corpus (Crossref records, see its README) and test/fixtures/bib (see its index.json).\n\n`;
writeFileSync(path.join(root, 'test/fixtures/labelled/labelled.bib'), header + out.join('\n'));
writeFileSync(path.join(root, 'test/fixtures/labelled/labels.json'), JSON.stringify(labels, null, 1) + '\n');
writeFileSync(path.join(root, 'test/fixtures/labelled/version-twins.jsonl'), twins.map((t) => JSON.stringify(t)).join('\n') + '\n');
const kinds = {};
for (const l of Object.values(labels)) kinds[l.kind] = (kinds[l.kind] ?? 0) + 1;
console.log(JSON.stringify({ entries: out.length, twins: twins.length, heldOut: Object.values(labels).filter((l) => l.split === 'heldout').length, kinds }));
