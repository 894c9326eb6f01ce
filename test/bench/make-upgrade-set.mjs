// Builds the labelled upgrade set (issue 19) in test/fixtures/labelled/upgrade.bib + upgrade-labels.json
// from real records, the way make-labelled.mjs builds the DOI-matching set:
//  - arxiv-published: journal articles of test/fixtures/corpus that the replay puts on arXiv (its
//    `<arxiv:doi>` and `journal_ref` name the article, as arXiv does), cited as researchers cite arXiv
//    preprints (eprint + archivePrefix, journal = {arXiv preprint arXiv:…}, DBLP's CoRR, an arXiv URL),
//    a year before publication half of the time. Label: the article's DOI.
//  - crossref-preprint-published: the corpus's own preprint/published relations (is-preprint-of,
//    has-preprint) with both sides served (the corpus, or version-twins.jsonl), the preprint cited by its
//    DOI. Label: the published DOI. Where only the article records the link (has-preprint) and the
//    preprint's record does not, the preprint carries no link of its own: kind `…-article-links-only`.
//  - crossref-preprint-unserved: a preprint whose relation names a published DOI the replay does not
//    serve (title and authors cannot be checked). Label: none (review is right, an upgrade is not).
//  - never-published: the corpus's preprints without any published version, cited by DOI and by the
//    arXiv id the replay gives them; working papers (Crossref `report`) cited as preprints. Label: none.
//  - confusers, derived from real records into upgrade-twins.jsonl (served beside the corpus):
//    confuser-same-title (a preprint with a real article's title by other real authors),
//    confuser-later-paper (a preprint by a real article's authors with another real title, or with the
//    article's main title and another subtitle: a later paper of the same group),
//    confuser-correction (a preprint of the original of a real correction notice whose original is not
//    served: half link the notice in their relation, half have no link). Label: none.
//  - cites-published: real articles cited as published, with their arXiv eprint beside. Label: none.
// A hash of the key puts about 30 % in a held-out share, never used for tuning.
// Usage: node test/bench/make-upgrade-set.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const works = readFileSync(path.join(root, 'test/fixtures/corpus/crossref-works.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const twinsIn = readFileSync(path.join(root, 'test/fixtures/labelled/version-twins.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

let seed = 20261201;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const takeRandom = (arr) => arr.splice(Math.floor(rand() * arr.length), 1)[0];
const strip = (s) => String(s ?? '').replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
const year = (w) => w.issued?.['date-parts']?.[0]?.[0] ?? w.published?.['date-parts']?.[0]?.[0];
const hash = (s) => createHash('sha1').update(s).digest().readUInt32BE(0);
const latexify = (s) => s.replace(/&/g, '\\&').replace(/%/g, '\\%').replace(/\$/g, '\\$').replace(/_/g, '\\_').replace(/#/g, '\\#').replace(/[{}]/g, '');
const NOTICE = /^(correction|corrigendum|erratum|retracted|retraction|review for|decision letter|author response|reply|comment)/i;
const usable = (w) => w.title?.[0] && strip(w.title[0]).length >= 12 && year(w) && (w.author ?? []).some((a) => a.family) && !NOTICE.test(strip(w.title[0]));

/** The arXiv id the replay gives a record (src/replay/corpus.ts: posted content and every fifth DOI). */
function replayArxivId(w) {
  const h = hash(String(w.DOI).toLowerCase());
  if (!(w.type === 'posted-content' || h % 5 === 0)) return undefined;
  const y = Math.min(Math.max(year(w) ?? 2015, 2008), 2099) % 100;
  return `${String(y).padStart(2, '0')}${String((h % 12) + 1).padStart(2, '0')}.${String(h % 100000).padStart(5, '0')}`;
}

function titleVariant(t) {
  const r = rand();
  if (r < 0.4) return t;
  if (r < 0.6) return t.replace(/\b([A-Z]{2,}[a-z]*)\b/g, '{$1}');
  if (r < 0.8) return t.toLowerCase().replace(/^./, (c) => c.toUpperCase());
  return t.replace(/[,;]/g, '');
}
function authorsField(authors) {
  const named = authors.filter((a) => a.family);
  const fmt = (a) => (a.given ? (rand() < 0.5 ? `${a.family}, ${a.given}` : `${a.given} ${a.family}`) : `{${a.family}}`);
  if (named.length > 5 && rand() < 0.5) return `${named.slice(0, 3).map(fmt).join(' and ')} and others`;
  return named.map(fmt).join(' and ');
}
const bibOf = (type, key, fields) => `@${type}{${key},\n${fields.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `  ${k} = {${v}}`).join(',\n')}\n}\n`;

/** An arXiv citation in one of the forms researchers use. */
function arxivEntry(w, key, id, y) {
  const title = latexify(titleVariant(strip(w.title[0])));
  const author = latexify(authorsField(w.author ?? []));
  const r = rand();
  if (r < 0.3) return bibOf('article', key, [['author', author], ['title', title], ['journal', `arXiv preprint arXiv:${id}`], ['year', y]]);
  if (r < 0.6) return bibOf('misc', key, [['author', author], ['title', title], ['year', y], ['eprint', id], ['archivePrefix', 'arXiv'], ['primaryClass', 'cs.DL']]);
  if (r < 0.8) return bibOf('article', key, [['author', author], ['title', title], ['journal', 'CoRR'], ['volume', `abs/${id}`], ['year', y], ['url', `https://arxiv.org/abs/${id}`], ['eprinttype', 'arXiv'], ['eprint', id]]);
  return bibOf('online', key, [['author', author], ['title', title], ['date', y], ['url', `https://arxiv.org/abs/${id}v2`]]);
}

const SERVER = [[/^10\.1101\//, 'bioRxiv'], [/^10\.21203\//, 'Research Square'], [/^10\.1002\/essoar/, 'ESS Open Archive'], [/^10\.2139\/ssrn/, 'SSRN'], [/^10\.26434\/chemrxiv/, 'ChemRxiv'], [/^10\.5194\//, 'Copernicus Discussions'], [/^10\.31223\//, 'EarthArXiv'], [/^10\.20944\//, 'Preprints.org'], [/^10\.312\d\d\/osf/, 'OSF Preprints']];
const serverOf = (doi) => SERVER.find(([re]) => re.test(doi))?.[1];

/** A preprint cited by its DOI, the server named as researchers name it. */
function doiEntry(w, key, server) {
  const title = latexify(titleVariant(strip(w.title[0])));
  const author = latexify(authorsField(w.author ?? []));
  const r = rand();
  const y = year(w);
  if (r < 0.4) return bibOf('article', key, [['author', author], ['title', title], ['journal', server], ['year', y], ['doi', w.DOI]]);
  if (r < 0.8) return bibOf('misc', key, [['author', author], ['title', title], ['howpublished', server], ['year', y], ['doi', w.DOI], ['note', 'Preprint']]);
  return bibOf('online', key, [['author', author], ['title', title], ['date', y], ['doi', w.DOI], ['pubstate', 'prepublished'], ['eprinttype', server.toLowerCase().replace(/\s+/g, '')]]);
}

const out = [];
const labels = {};
let n = 0;
const heldOut = (key) => hash(`upgrade-heldout:${key}`) % 10 < 3;
const add = (bib, key, doi, kind, extra = {}) => {
  out.push(bib);
  labels[key] = { doi, kind, split: heldOut(key) ? 'heldout' : 'tuning', ...extra };
};
const byDoi = new Map([...works, ...twinsIn].map((w) => [String(w.DOI).toLowerCase(), w]));
const used = new Set();

// arXiv preprints of published articles.
// SSRN registers its preprints as journal articles of "SSRN Electronic Journal": they are preprints, not published versions.
const onArxiv = works.filter((w) => w.type === 'journal-article' && usable(w) && replayArxivId(w) && w['container-title']?.[0] && !/^10\.2139\/ssrn/i.test(w.DOI));
for (let i = 0; i < 160 && onArxiv.length; i++) {
  const w = takeRandom(onArxiv);
  used.add(w);
  const y = rand() < 0.5 ? year(w) - 1 : year(w);
  const key = `upax${++n}`;
  add(arxivEntry(w, key, replayArxivId(w), y), key, w.DOI.toLowerCase(), 'arxiv-published');
}

// Crossref-registered preprints and their published versions, from the records' own relations.
const seen = new Set();
for (const w of [...works, ...twinsIn]) {
  const rels = [...(w.relation?.['is-preprint-of'] ?? []).map((r) => [w, String(r.id).toLowerCase(), 'pre']), ...(w.relation?.['has-preprint'] ?? []).map((r) => [w, String(r.id).toLowerCase(), 'pub'])];
  for (const [x, other, side] of rels) {
    if (/^10\.(5281|6084|48550)\//.test(other)) continue;
    const preDoi = side === 'pre' ? String(x.DOI).toLowerCase() : other;
    const pubDoi = side === 'pre' ? other : String(x.DOI).toLowerCase();
    if (seen.has(preDoi + ' ' + pubDoi) || !serverOf(preDoi)) continue;
    seen.add(preDoi + ' ' + pubDoi);
    const pre = byDoi.get(preDoi);
    const pub = byDoi.get(pubDoi);
    if (!pre || !usable(pre)) continue;
    const preLinks = (pre.relation?.['is-preprint-of'] ?? []).some((r) => String(r.id).toLowerCase() === pubDoi);
    const kind = !pub ? 'crossref-preprint-unserved' : preLinks ? 'crossref-preprint-published' : 'crossref-preprint-published-article-links-only';
    for (let v = 0; v < 3; v++) {
      const key = `upcr${++n}`;
      add(doiEntry(pre, key, serverOf(preDoi)), key, pub && !['journal', 'component'].includes(pub.type) ? pubDoi : null, kind);
    }
  }
}

// Preprints never published: the corpus's own, by DOI and by their arXiv id; working papers cited as preprints.
const linked = new Set([...works, ...twinsIn].flatMap((w) => [...(w.relation?.['is-preprint-of'] ?? []), ...(w.relation?.['has-preprint'] ?? [])].map((r) => String(r.id).toLowerCase()).concat((w.relation?.['is-preprint-of'] ?? []).length ? [String(w.DOI).toLowerCase()] : [])));
for (const w of works.filter((x) => x.type === 'posted-content' && usable(x) && !linked.has(String(x.DOI).toLowerCase()) && !x.relation?.['is-preprint-of'])) {
  const server = serverOf(String(w.DOI).toLowerCase());
  if (server) {
    const key = `upnp${++n}`;
    add(doiEntry(w, key, server), key, null, 'never-published');
  }
  const key = `upnp${++n}`;
  add(arxivEntry(w, key, replayArxivId(w), year(w)), key, null, 'never-published');
}
const reports = works.filter((w) => w.type === 'report' && usable(w));
for (let i = 0; i < 30 && reports.length; i++) {
  const w = takeRandom(reports);
  const key = `upnp${++n}`;
  add(bibOf('misc', key, [['author', latexify(authorsField(w.author))], ['title', latexify(strip(w.title[0]))], ['howpublished', 'Preprint'], ['year', year(w)]]), key, null, 'never-published');
}

// Confusers, derived from real records.
const twins = [];
const osfDoi = (s) => `10.31219/osf.io/${createHash('sha1').update(s).digest('hex').slice(0, 5)}`;
const preprintRecord = (doi, title, authors, y, extra = {}) => ({
  DOI: doi,
  type: 'posted-content',
  subtype: 'preprint',
  title: [title],
  author: authors,
  issued: { 'date-parts': [[y]] },
  publisher: 'Center for Open Science',
  institution: [{ name: 'OSF Preprints' }],
  'scholar-derived-from': extra.from,
  ...(extra.relation ? { relation: extra.relation } : {}),
});
/** A confuser preprint, cited by its DOI or (the replay puts every preprint on arXiv) by its arXiv id. */
const citeConfuser = (rec, key) => (rand() < 0.5 ? doiEntry(rec, key, 'OSF Preprints') : arxivEntry(rec, key, replayArxivId(rec), year(rec)));
const pool = works.filter((w) => w.type === 'journal-article' && usable(w) && !used.has(w));
for (let i = 0; i < 40 && pool.length > 1; i++) {
  const w = takeRandom(pool);
  const other = takeRandom(pool);
  const rec = preprintRecord(osfDoi(`same:${w.DOI}`), strip(w.title[0]), other.author, year(w) - 1, { from: `${w.DOI} (title), ${other.DOI} (authors)` });
  twins.push(rec);
  const key = `upst${++n}`;
  add(citeConfuser(rec, key), key, null, 'confuser-same-title', { near: w.DOI.toLowerCase() });
}
for (let i = 0; i < 40 && pool.length > 1; i++) {
  const w = takeRandom(pool);
  const main = /^(.{15,}?):\s/.exec(strip(w.title[0]))?.[1];
  const title = main && i % 2 === 0 ? `${main}: preliminary results` : strip(takeRandom(pool).title[0]);
  const rec = preprintRecord(osfDoi(`later:${w.DOI}`), title, w.author, year(w) - 2, { from: `${w.DOI} (authors)` });
  twins.push(rec);
  const key = `uplp${++n}`;
  add(citeConfuser(rec, key), key, null, 'confuser-later-paper', { near: w.DOI.toLowerCase() });
}
for (const c of works) {
  const m = /^(?:correction:\s*|corrigendum to\s*|erratum to\s*|erratum:\s*)["“]?(.{15,}?)["”]?$/i.exec(strip(c.title?.[0]));
  if (!m) continue;
  const target = (c['update-to'] ?? []).map((r) => String(r.DOI ?? '').toLowerCase());
  if (target.some((d) => byDoi.has(d))) continue;
  const authors = (c.author ?? []).length ? c.author : takeRandom(pool.slice()).author;
  const linkIt = n % 2 === 0;
  const rec = preprintRecord(osfDoi(`corr:${c.DOI}`), m[1], authors, (year(c) ?? 2020) - 1, { from: `${c.DOI} (the notice)`, relation: linkIt ? { 'is-preprint-of': [{ 'id-type': 'doi', id: c.DOI, 'asserted-by': 'subject' }] } : undefined });
  twins.push(rec);
  const key = `upco${++n}`;
  add(citeConfuser(rec, key), key, null, 'confuser-correction', { near: c.DOI.toLowerCase(), linked: linkIt });
}

// Articles cited as published, with their arXiv id beside: nothing to upgrade.
for (let i = 0; i < 30 && onArxiv.length; i++) {
  const w = takeRandom(onArxiv);
  const key = `uppb${++n}`;
  add(bibOf('article', key, [['author', latexify(authorsField(w.author))], ['title', latexify(strip(w.title[0]))], ['journal', latexify(strip(w['container-title'][0]))], ['year', year(w)], ['eprint', replayArxivId(w)], ['archivePrefix', 'arXiv']]), key, null, 'cites-published');
}

const header = '% Labelled upgrade set, generated by test/bench/make-upgrade-set.mjs from real records:\n% test/fixtures/corpus (Crossref records, see its README), version-twins.jsonl and upgrade-twins.jsonl (derived from them).\n\n';
writeFileSync(path.join(root, 'test/fixtures/labelled/upgrade.bib'), header + out.join('\n'));
writeFileSync(path.join(root, 'test/fixtures/labelled/upgrade-labels.json'), JSON.stringify(labels, null, 1) + '\n');
writeFileSync(path.join(root, 'test/fixtures/labelled/upgrade-twins.jsonl'), twins.map((t) => JSON.stringify(t)).join('\n') + '\n');
const kinds = {};
for (const l of Object.values(labels)) kinds[l.kind] = (kinds[l.kind] ?? 0) + 1;
console.log(JSON.stringify({ entries: out.length, twins: twins.length, heldOut: Object.values(labels).filter((l) => l.split === 'heldout').length, kinds }));
