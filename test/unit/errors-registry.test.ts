import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERROR_CODES, errorLabel, errorText, isErrorCode, isPermanent, ScholarError } from '../../src/core/errors';

function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Every quoted or template-started `E_…` string in src/, with the file it appears in. */
function codesInSources(): Map<string, string> {
  const found = new Map<string, string>();
  const src = path.join(repoRoot(), 'src');
  for (const file of sources(src)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/['"`](E_[A-Z0-9_]+)['"`]/g)) if (!found.has(m[1]!)) found.set(m[1]!, path.relative(src, file));
  }
  return found;
}

test('every error code used in src/ is declared in the registry', () => {
  const found = codesInSources();
  // The scan must see the codes it is meant to see, or an empty scan would pass.
  assert.ok(found.size >= 50, `only ${found.size} codes found in src/`);
  assert.ok(found.has('E_PATH_ESCAPE') && found.has('E_BIB_DUP_KEY') && found.has('E_NO_FOLDER'));
  const undeclared = [...found].filter(([code]) => !isErrorCode(code)).map(([code, file]) => `${code} (${file})`);
  assert.deepEqual(undeclared, []);
});

test('the scan catches a code that is not declared', () => {
  // The same pattern as the scan above, over a line that names an undeclared code.
  const line = "throw new ScholarError('E_NOT_DECLARED_ANYWHERE' as never, 'x')";
  const codes = [...line.matchAll(/['"`](E_[A-Z0-9_]+)['"`]/g)].map((m) => m[1]!);
  assert.deepEqual(codes.filter((c) => !isErrorCode(c)), ['E_NOT_DECLARED_ANYWHERE']);
});

test('every declared code has a short label and a plain sentence without internal words', () => {
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    assert.ok(info.label.length > 0 && info.label.length <= 30, `${code}: label "${info.label}"`);
    assert.match(info.label, /^[A-Z.]/, `${code}: label starts with a capital`);
    assert.ok(info.text.length > 0, `${code}: text`);
    assert.doesNotMatch(info.text, /\bE_[A-Z]|undefined|null|\bstack\b|exception|errno|ENOENT|wasm|sql\.js/i, `${code}: "${info.text}"`);
    assert.doesNotMatch(info.text, /\.$/, `${code}: text is a clause, without a final full stop`);
  }
});

test('isPermanent reads the registry: wrong answers are permanent, bad moments are not', () => {
  for (const code of ['E_NOT_PDF', 'E_PDF_TRUNCATED', 'E_PDF_MISMATCH', 'E_NO_PDF', 'E_TOO_LARGE', 'E_DECODED_TOO_LARGE', 'E_REDIRECT_SCHEME', 'E_REDIRECT_LOOP', 'E_NO_DOI', 'E_SKIPPED', 'E_PATH_ESCAPE'])
    assert.equal(isPermanent(code), true, code);
  for (const code of ['E_NETWORK', 'E_TIMEOUT', 'E_CIRCUIT_OPEN', 'E_UNREACHABLE', 'E_ABORTED', 'E_LOCKED', 'E_STORAGE_WRITE', 'E_PDF_SIZE', 'E_BAD_ENCODING'])
    assert.equal(isPermanent(code), false, code);
  assert.equal(isPermanent('E_HTTP_STATUS', 404), true);
  assert.equal(isPermanent('E_HTTP_STATUS', 410), true);
  assert.equal(isPermanent('E_HTTP_STATUS', 503), false);
  assert.equal(isPermanent('E_HTTP_STATUS', 429), false);
  assert.equal(isPermanent('E_HTTP_STATUS'), false);
  // A code nobody declared (a Node errno that slipped through) is worth a retry.
  assert.equal(isPermanent('ENOENT'), false);
});

test('labels and texts come from the registry; unknown codes read as an unexpected error', () => {
  assert.equal(errorLabel('E_NOT_PDF'), ERROR_CODES.E_NOT_PDF.label);
  assert.equal(errorText('E_TLS'), ERROR_CODES.E_TLS.text);
  assert.equal(errorLabel('ENOENT'), ERROR_CODES.E_INTERNAL.label);
  const err = new ScholarError('E_LOCKED', 'another process holds smith2020');
  assert.equal(err.code, 'E_LOCKED');
  assert.equal(errorLabel(err.code), 'Busy');
});
