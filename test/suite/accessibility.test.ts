// The library tree says each entry's state in words (description and accessibilityInformation), so
// that a screen reader, or anyone who cannot tell the icon colours apart, gets what the icon shows.
import * as assert from 'node:assert/strict';
import { test } from './util';
import { bibEntry, readable, record, scholarApi, treeEntries, writeWorkspaceFile } from './scholar';

test('accessibility: every tree item has accessibilityInformation, and each entry states its DOI and PDF state in words', async () => {
  const api = await scholarApi();
  const text =
    '% Entries copied from test/fixtures/corpus (Crossref records).\n\n' +
    bibEntry('a11y-with', record('10.1002/aqc.3262'), { doi: true }) +
    '\n' +
    bibEntry('a11y-without', record('10.1007/s10687-017-0302-8'));
  const uri = await writeWorkspaceFile(api, 'a11y/a11y.bib', text);
  const items = treeEntries(api, uri);
  const byKey = new Map(items.map((i) => [i.node.key, i.item]));
  const withDoi = byKey.get('a11y-with');
  const without = byKey.get('a11y-without');
  assert.ok(withDoi && without, 'both entries are in the tree');
  assert.equal(withDoi.accessibilityInformation?.role, 'treeitem');
  assert.match(withDoi.accessibilityInformation?.label ?? '', /^a11y-with, has a DOI, no PDF, /);
  assert.match(String(withDoi.description), /^has a DOI, no PDF · /);
  assert.match(without.accessibilityInformation?.label ?? '', /^a11y-without, no DOI yet, no PDF, /);
  assert.match(String(without.description), /^no DOI yet, no PDF · /);
  // The tooltip (filled on hover) says it too.
  const tip = readable(typeof without.tooltip === 'string' ? without.tooltip : without.tooltip?.value ?? '');
  assert.match(tip, /DOI: —/);
  assert.match(tip, /PDF: none/);
  // Every item of the tree, not only entries: groups, .bib files, ranges.
  const all = [...api.tree.getChildren(), ...api.tree.getChildren().flatMap((n) => api.tree.getChildren(n))];
  for (const n of all) {
    const item = api.tree.getTreeItem(n);
    assert.ok(item.accessibilityInformation?.label, `${String(item.label)} has an accessible label`);
    assert.equal(item.accessibilityInformation?.role, 'treeitem');
  }
});
