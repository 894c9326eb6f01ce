import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decide, scoreCandidate, titleSimilarity, venueSimilarity, describeReasons, type EntryFacts } from '../../src/core/match/score';
import { parseCrossrefWork } from '../../src/core/sources/crossref';
import { parseBib } from '../../src/core/bib/parse';
import { entryFacts } from '../../src/core/match/facts';

const fixtures = path.resolve(__dirname, '../../test/fixtures');
const items = (file: string) => JSON.parse(readFileSync(path.join(fixtures, 'api', file), 'utf8')).message.items.map(parseCrossrefWork);
const work = (file: string) => parseCrossrefWork(JSON.parse(readFileSync(path.join(fixtures, 'api', file), 'utf8')).message);
const corpus = readFileSync(path.join(fixtures, 'corpus/crossref-works.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

function facts(bib: string): EntryFacts {
  const f = parseBib(bib);
  return entryFacts(f, f.entries[0]);
}

test('an arXiv-only paper is not matched to the different work Crossref ranks first (real response)', () => {
  const entry = facts('@article{v, title={Attention is All you Need}, author={Vaswani, Ashish and Shazeer, Noam and others}, year={2017}, journal={Advances in Neural Information Processing Systems}}');
  const d = decide(entry, items('crossref-query-title-author-attention-is-all-you-need.json'));
  assert.notEqual(d.outcome, 'accept');
  assert.ok(d.ranked[0].reasons.title < 0.7, describeReasons(d.ranked[0].reasons));
});

test('a non-scholarly title is not matched to a poem chapter of the same words (real response)', () => {
  const entry = facts('@misc{g, title={Gravity Hill}, author={Doe, Jane}, year={2023}}');
  assert.notEqual(decide(entry, items('crossref-query-title-gravity-hill.json')).outcome, 'accept');
});

test('the exact work is accepted, with reasons a reviewer can read', () => {
  const w = work('crossref-work-10.1073_pnas.1414271111.json');
  const entry = facts(`@article{m, title={Developing functional musculoskeletal tissues through hypoxia and lysyl oxidase-induced collagen cross-linking}, author={Makris, Eleftherios A. and Responte, Donald J. and Paschos, N. K. and Hu, J. C. and Athanasiou, K. A.}, journal={Proc. Natl. Acad. Sci. U.S.A.}, year={2014}, volume={111}}`);
  const d = decide(entry, [w]);
  assert.equal(d.outcome, 'accept');
  assert.equal(d.best?.candidate.doi, '10.1073/pnas.1414271111');
  assert.match(describeReasons(d.best!.reasons), /title 1\.00, first author ✓/);
});

test('a correction notice titled "Correction: <title>" is never accepted for the original (real corpus records)', () => {
  const notices = corpus.filter((w: { title?: string[] }) => /^Correction: /.test(w.title?.[0] ?? '')).slice(0, 10).map(parseCrossrefWork);
  assert.ok(notices.length >= 5);
  for (const n of notices) {
    const original = n.title.replace(/^Correction:\s*/, '');
    const entry: EntryFacts = { key: 'k', type: 'article', title: original, authors: n.authors.map((a) => a.family), hasOthers: false, year: n.year, venue: n.venue, isPreprint: false };
    const s = scoreCandidate(entry, n);
    assert.equal(s.reasons.penalty, 'correction', n.title);
    assert.notEqual(decide(entry, [n]).outcome, 'accept', n.title);
  }
});

test('the same title by other authors is not accepted', () => {
  const w = work('crossref-work-10.1371_journal.pone.0033693.json');
  const entry: EntryFacts = { key: 'k', type: 'article', title: w.title, authors: ['Nobody', 'Elsewhere'], hasOthers: false, year: w.year, venue: w.venue, isPreprint: false };
  const d = decide(entry, [w]);
  assert.notEqual(d.outcome, 'accept');
  assert.equal(d.best?.reasons.firstAuthor, false);
});

test('two candidates too close together go to review, not to a guess', () => {
  const w = work('crossref-work-10.1371_journal.pone.0033693.json');
  const twin = { ...w, doi: '10.9999/duplicate.registration' };
  const entry: EntryFacts = { key: 'k', type: 'article', title: w.title, authors: w.authors.map((a) => a.family), hasOthers: false, year: w.year, venue: w.venue, isPreprint: false };
  const d = decide(entry, [w, twin]);
  assert.equal(d.outcome, 'review');
  assert.match(d.why, /two candidates/);
});

test('titles match through LaTeX, accents, case, punctuation and a missing subtitle', () => {
  assert.ok(titleSimilarity('{\\"U}ber die {DNA}-Struktur', { title: 'Über die DNA Struktur' }) > 0.97);
  const mainOnly = titleSimilarity('Deep learning', { title: 'Deep learning: methods and applications' });
  assert.ok(mainOnly >= 0.9 && mainOnly < 0.97, `a main title alone matches, as weaker evidence than the whole (${mainOnly})`);
  assert.ok(titleSimilarity('Deep learning: methods and applications', { title: 'Deep Learning', subtitle: 'Methods and Applications' }) > 0.97);
});

test('abbreviated venues match their full names', () => {
  assert.ok(venueSimilarity('J. Mach. Learn. Res.', 'Journal of Machine Learning Research') >= 0.9);
  assert.ok(venueSimilarity('Proc. Natl. Acad. Sci.', 'Proceedings of the National Academy of Sciences') >= 0.9);
  assert.ok(venueSimilarity('Nature', 'Physical Review Letters') < 0.5);
});

test('a preprint entry tolerates a wider year gap to its own record, and never takes the published version (real pair)', () => {
  // 10.1101/2024.04.01.587366 (bioRxiv, 2024) is-preprint-of 10.1016/j.xgen.2025.100814 (Cell Genomics, 2025).
  const w = work('crossref-work-10.1016_j.xgen.2025.100814.json');
  const pre = work('crossref-work-10.1101_2024.04.01.587366.json');
  const base: EntryFacts = { key: 'k', type: 'article', title: w.title, authors: w.authors.map((a) => a.family), hasOthers: false, year: (w.year ?? 2025) - 2, isPreprint: false, cited: 'published' };
  assert.notEqual(decide(base, [w]).outcome, 'accept', 'two years off is too far for a published entry');
  const preprintEntry: EntryFacts = { ...base, isPreprint: true, cited: 'preprint', year: (pre.year ?? 2024) + 2 };
  assert.equal(decide(preprintEntry, [pre]).outcome, 'accept');
  assert.equal(decide(preprintEntry, [pre, w]).best?.candidate.doi, '10.1101/2024.04.01.587366');
  const onlyPublished = decide(preprintEntry, [w]);
  assert.equal(onlyPublished.outcome, 'review', onlyPublished.why);
  assert.match(onlyPublished.why, /only the published version was found/);
});

test('versions are never swapped, in either direction, and a citation that does not say goes to review (real pair)', () => {
  const w = work('crossref-work-10.1016_j.xgen.2025.100814.json');
  const pre = work('crossref-work-10.1101_2024.04.01.587366.json');
  const authors = w.authors.map((a) => `${a.family}, ${a.given ?? ''}`).join(' and ');
  const journal = facts(`@article{j, title={${w.title}}, author={${authors}}, journal={Cell Genomics}, year={2025}}`);
  const biorxiv = facts(`@article{b, title={${w.title}}, author={${authors}}, journal={bioRxiv}, year={2024}}`);
  const bare = facts(`@misc{m, title={${w.title}}, author={${authors}}, year={2024}}`);
  assert.equal(journal.cited, 'published');
  assert.equal(biorxiv.cited, 'preprint');
  assert.equal(bare.cited, 'unknown');
  // Both versions found: each citation gets its own.
  const dj = decide(journal, [pre, w]);
  assert.equal(dj.outcome, 'accept');
  assert.equal(dj.best?.candidate.doi, '10.1016/j.xgen.2025.100814');
  const db = decide(biorxiv, [w, pre]);
  assert.equal(db.outcome, 'accept');
  assert.equal(db.best?.candidate.doi, '10.1101/2024.04.01.587366');
  // Only the other version found: review, with the other version shown.
  const onlyPre = decide(journal, [pre]);
  assert.equal(onlyPre.outcome, 'review');
  assert.equal(onlyPre.best?.reasons.versionOk, false);
  assert.match(describeReasons(onlyPre.best!.reasons), /preprint \(another version\)/);
  assert.equal(decide(biorxiv, [w]).outcome, 'review');
  // A citation that names no venue: both versions are a question for the user.
  const dm = decide(bare, [w, pre]);
  assert.equal(dm.outcome, 'review');
  assert.match(dm.why, /preprint and a published version/);
});
