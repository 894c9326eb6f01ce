// The minimal rewrite of a preprint entry into its published version (src/core/upgrade/edit.ts), on
// the shapes entries really have: DBLP's CoRR form, one-line entries, no trailing comma, BibLaTeX,
// upper-case types; every other byte of the file stays.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyEdits } from '../../src/core/bib/edit';
import { parseBib } from '../../src/core/bib/parse';
import { entryFacts } from '../../src/core/match/facts';
import { planUpgradeEdit, upgradeFields } from '../../src/core/upgrade/edit';
import type { UpgradeTarget } from '../../src/core/upgrade/evidence';

const article: UpgradeTarget = { doi: '10.5555/x.1', title: 'T', type: 'journal-article', venue: 'Journal of Tests', year: 2022, volume: '7', issue: '2', pages: '1-9' };
const proc: UpgradeTarget = { doi: '10.5555/x.2', title: 'T', type: 'proceedings-article', venue: 'Proc. of Tests', year: 2021, pages: '10-20' };

function upgrade(text: string, to: UpgradeTarget, key = 'k') {
  const f = parseBib(text);
  const e = f.entries.find((x) => x.key === key)!;
  const from = { arxivId: /\d{4}\.\d{4,5}/.exec(text)?.[0] };
  const after = applyEdits(text, [planUpgradeEdit(f, e, to, from)]);
  const g = parseBib(after);
  assert.equal(g.errors.filter((x) => x.severity === 'error').length, 0, after);
  return { after, entry: g.entries.find((x) => x.key === key)!, g };
}

test('upgrade edit: DBLP CoRR entry becomes the article; journal renamed in place, abs/ volume replaced', () => {
  const bib = '@article{k,\n  author    = {A. Author},\n  title     = {T},\n  journal   = {CoRR},\n  volume    = {abs/2101.00001},\n  year      = {2021},\n  eprinttype = {arXiv},\n  eprint    = {2101.00001}\n}\n';
  const { after, entry, g } = upgrade(bib, article);
  assert.equal(entry.fields.get('journal')?.value, 'Journal of Tests');
  assert.equal(entry.fields.get('volume')?.value, '7');
  assert.equal(entry.fields.get('eprint')?.value, '2101.00001');
  assert.equal(entryFacts(g, entry).cited, 'published');
  assert.ok(after.includes('  author    = {A. Author},\n  title     = {T},\n'), 'untouched lines keep their bytes');
});

test('upgrade edit: a CoRR volume without a replacement is removed, and nothing else', () => {
  const bib = '@article{k,\n  author = {A. Author},\n  title = {T},\n  journal = {CoRR},\n  volume = {abs/2101.00001},\n  year = {2021}\n}\n';
  const { after, entry } = upgrade(bib, { ...article, volume: undefined, issue: undefined, pages: undefined });
  assert.equal(entry.fields.has('volume'), false);
  assert.equal(after, '@article{k,\n  author = {A. Author},\n  title = {T},\n  journal = {Journal of Tests},\n  year = {2022},\n  doi = {10.5555/x.1},\n  eprint = {2101.00001},\n  archiveprefix = {arXiv}\n}\n');
});

test('upgrade edit: a one-line @MISC entry stays one line, the type keeps its case, neighbours keep their bytes', () => {
  const before = '@book{b, title = {Other}}\n';
  const bib = `${before}@MISC{k, author = {A. Author}, title = {T}, year = 2021, eprint = {2101.00001}, archivePrefix = {arXiv}}\n% end\n`;
  const { after } = upgrade(bib, proc);
  assert.equal(after, `${before}@INPROCEEDINGS{k, author = {A. Author}, title = {T}, year = 2021, eprint = {2101.00001}, archivePrefix = {arXiv}, booktitle = {Proc. of Tests}, pages = {10--20}, doi = {10.5555/x.2}}\n% end\n`);
});

test('upgrade edit: pubstate is removed and BibLaTeX fields are used (journaltitle, date)', () => {
  const bib = '@online{k,\n  author = {A. Author},\n  title = {T},\n  date = {2021},\n  eprint = {2101.00001},\n  eprinttype = {arxiv},\n  pubstate = {prepublished}\n}\n';
  const { after, entry, g } = upgrade(bib, article);
  assert.equal(entry.type, 'article');
  assert.equal(entry.fields.has('pubstate'), false);
  assert.equal(entry.fields.get('journaltitle')?.value, 'Journal of Tests');
  assert.equal(entry.fields.get('date')?.value, '2022');
  assert.equal(entry.fields.has('year'), false);
  assert.equal(entryFacts(g, entry).cited, 'published');
  assert.ok(after.includes('  eprinttype = {arxiv},\n'), after);
});

test('upgrade edit: a work of another type is refused with a clear error, the file untouched', () => {
  const f = parseBib('@misc{k, title = {T}, eprint = {2101.00001}}');
  assert.throws(() => upgradeFields(f.entries[0], { ...article, type: 'dataset' }, {}), /E_UPGRADE_TYPE|cannot be written/);
});

test('duplicates across versions: a preprint entry and the published entry of one work pair up; other works and same-title works by others do not', async () => {
  const { versionDuplicates } = await import('../../src/core/upgrade/duplicates');
  const a = parseBib(
    '@misc{pre, author = {Okafor, Ada and Lindqvist, Bo}, title = {Sparse Widgets for Reproducible Bibliographies}, year = {2021}, eprint = {2104.01234}, archivePrefix = {arXiv}}\n' +
      '@misc{pre2, author = {Moreau, Claire}, title = {Pooled screens of widget variants}, year = {2021}, howpublished = {bioRxiv}, doi = {10.1101/2021.03.01.433333}}\n' +
      '@misc{alone, author = {Haddad, Rana}, title = {A survey of citation graph widgets}, year = {2020}, eprint = {2106.06666}}\n',
  );
  const b = parseBib(
    '@article{pub, author = {A. Okafor and B. Lindqvist}, title = {Sparse widgets for reproducible bibliographies}, journal = {Journal of Replay Studies}, year = {2022}}\n' +
      '@article{pub2, author = {Tanaka, Ken}, title = {Yeast widgets revisited}, journal = {Replay Genetics}, year = {2022}, doi = {10.5555/upgrade.2}}\n' +
      '@article{other, author = {Brandt, Uwe}, title = {A survey of citation graph widgets}, journal = {Replay Surveys}, year = {2020}}\n',
  );
  const d = versionDuplicates([{ path: 'a.bib', file: a }, { path: 'b.bib', file: b }], new Map([['pre2', '10.5555/UPGRADE.2']]));
  assert.deepEqual(
    d.map((x) => [x.preprint.key, x.published.key, x.how]).sort(),
    [['pre', 'pub', 'title'], ['pre2', 'pub2', 'linked']],
  );
});
