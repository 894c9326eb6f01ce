import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEntities } from '../../src/core/entities';
import { decodeXml } from '../../src/core/sources/arxiv';

test('decodeEntities decodes named and numeric references once', () => {
  assert.equal(decodeEntities('Fish &amp; Chips &lt;b&gt; &quot;q&quot; &apos;a&apos;'), `Fish & Chips <b> "q" 'a'`);
  assert.equal(decodeEntities('Schr&#246;dinger &#x3B1;&#X3b2;'), 'Schrödinger αβ');
  assert.equal(decodeEntities('a&nbsp;b'), 'a b');
  // One pass: an escaped reference stays a reference.
  assert.equal(decodeEntities('&amp;lt;'), '&lt;');
  assert.equal(decodeEntities('&#38;lt;'), '&lt;');
});

test('decodeEntities keeps what is not a reference and never throws on bad numbers', () => {
  assert.equal(decodeEntities('AT&T &unknown; & x'), 'AT&T &unknown; & x');
  assert.equal(decodeEntities('&#0;&#x110000;ok'), 'ok');
  // HTML pages often drop the ; of numeric references.
  assert.equal(decodeEntities('caf&#233 au lait'), 'café au lait');
});

test('the Atom reader keeps CDATA as it is and decodes the rest with the same decoder', () => {
  assert.equal(decodeXml('<![CDATA[a &amp; b]]> &amp; c'), 'a &amp; b & c');
  assert.equal(decodeXml('Ni&#241;o &amp;lt;'), decodeEntities('Ni&#241;o &amp;lt;'));
});
