// The package as the Marketplace and Open VSX receive it: `vsce package` prints no warning, and the
// .vsix it writes carries a 256 px PNG icon, Marketplace categories, the repository, the walkthrough
// with every media file it names, a licence (Open VSX refuses extensions without one) and a README
// whose images load without the repository (absolute https URLs).
//
// vsce runs on a copy of the files the .vsix is made of, with `vscode:prepublish` removed from the
// copy's package.json: the prepublish step would rebuild dist/ in production mode (no source maps)
// under the other tests, and `node esbuild.mjs --tests` has just built dist/ anyway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

const root = path.resolve(__dirname, '../..');

/** The entries of a zip file (stored or deflated), read from its central directory. */
function readZip(file: string): Map<string, Buffer> {
  const buf = fs.readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, `${file} is not a zip file (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'bad central directory entry');
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(dataStart, dataStart + compressed);
    out.set(name, method === 8 ? zlib.inflateRawSync(data) : Buffer.from(data));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

function packageCopy(): { vsix: string; output: string } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-vsix-'));
  const src = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  delete pkg.scripts['vscode:prepublish'];
  fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify(pkg, null, 2));
  fs.writeFileSync(path.join(tmp, '.vscodeignore'), src);
  for (const f of ['README.md', 'CHANGELOG.md', 'LICENSE', 'package.nls.json']) fs.copyFileSync(path.join(root, f), path.join(tmp, f));
  for (const d of ['media', 'dist', 'l10n']) fs.cpSync(path.join(root, d), path.join(tmp, d), { recursive: true });
  const vsix = path.join(tmp, 'scholar.vsix');
  const r = spawnSync(path.join(root, 'node_modules/.bin/vsce'), ['package', '--no-dependencies', '--out', vsix], { cwd: tmp, encoding: 'utf8', timeout: 120_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  assert.equal(r.status, 0, `vsce package failed:\n${output}`);
  return { vsix, output };
}

test('vsce package prints no warning, and the .vsix has a PNG icon, categories, repository, walkthrough, licence and absolute README images', () => {
  assert.ok(fs.existsSync(path.join(root, 'dist/extension.js')), 'dist/extension.js is missing: run `node esbuild.mjs --tests` first');
  const { vsix, output } = packageCopy();
  assert.doesNotMatch(output, /WARNING|warn/i, `vsce printed a warning:\n${output}`);

  const files = readZip(vsix);
  const manifestText = files.get('extension/package.json')?.toString('utf8');
  assert.ok(manifestText, 'no extension/package.json in the .vsix');
  // The manifest's texts are %keys% of package.nls.json (the English strings), as VS Code reads them.
  const nlsText = files.get('extension/package.nls.json')?.toString('utf8');
  assert.ok(nlsText, 'no extension/package.nls.json in the .vsix');
  const nls = JSON.parse(nlsText) as Record<string, string>;
  const manifest = JSON.parse(manifestText, (_k, v: unknown) => (typeof v === 'string' && /^%[^%]+%$/.test(v) ? (nls[v.slice(1, -1)] ?? v) : v));
  assert.ok(files.has('extension/l10n/bundle.l10n.json'), 'no l10n bundle in the .vsix');

  // The icon: a PNG of at least 128 px (the Marketplace's minimum), here 256 px square.
  assert.match(manifest.icon, /\.png$/);
  const icon = files.get(`extension/${manifest.icon}`);
  assert.ok(icon, `the icon ${manifest.icon} is not in the .vsix`);
  assert.equal(icon.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'the icon is not a PNG');
  assert.equal(icon.toString('ascii', 12, 16), 'IHDR');
  assert.deepEqual([icon.readUInt32BE(16), icon.readUInt32BE(20)], [256, 256]);
  const vsixManifest = files.get('extension.vsixmanifest')!.toString('utf8');
  assert.match(vsixManifest, new RegExp(`Type="Microsoft\\.VisualStudio\\.Services\\.Icons\\.Default" Path="extension/${manifest.icon.replace(/[.]/g, '\\.')}"`));

  // Listing fields.
  assert.ok(manifest.categories.includes('Linters'), `categories ${manifest.categories}`);
  assert.ok(!manifest.categories.every((c: string) => c === 'Other'));
  for (const k of ['bibtex', 'biblatex', 'citation', 'doi', 'open access']) assert.ok(manifest.keywords.includes(k), `keyword ${k}`);
  assert.match(manifest.repository.url, /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
  assert.match(manifest.bugs.url, /^https:\/\//);
  assert.match(manifest.homepage, /^https:\/\//);
  assert.equal(manifest.preview, true);
  assert.match(manifest.galleryBanner.color, /^#[0-9a-f]{6}$/i);
  assert.deepEqual(manifest.extensionKind, ['workspace']);
  assert.match(vsixManifest, /<Property Id="Microsoft\.VisualStudio\.Services\.Links\.Source" Value="https:\/\/github\.com\//);

  // The walkthrough, and every file its steps show.
  const [walk] = manifest.contributes.walkthroughs;
  assert.ok(walk, 'no walkthrough');
  const steps = walk.steps.map((s: { id: string }) => s.id);
  assert.deepEqual(steps, ['scholar.contactEmail', 'scholar.resolve', 'scholar.review', 'scholar.fetch', 'scholar.library']);
  const declared = new Set(manifest.contributes.commands.map((c: { command: string }) => c.command));
  for (const s of walk.steps) {
    const media = s.media.markdown ?? s.media.svg ?? s.media.image;
    assert.ok(files.has(`extension/${media}`), `${s.id}: ${media} is not in the .vsix`);
    if (!s.media.markdown) assert.ok(s.media.altText, `${s.id}: media without altText`);
    assert.ok(s.completionEvents?.length, `${s.id}: no completion event`);
    const commands = [...String(s.description).matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]!);
    assert.ok(commands.length, `${s.id}: no button`);
    for (const c of commands) assert.ok(declared.has(c), `${s.id}: ${c} is not a declared command`);
  }

  // Open VSX: a licence in the package and in the manifest.
  assert.ok(manifest.license);
  assert.ok([...files.keys()].some((n) => /^extension\/LICENSE(\.txt|\.md)?$/i.test(n)), 'no LICENSE in the .vsix');

  // The README as the listing shows it: every image an absolute https URL (vsce rewrote relative ones).
  const readme = files.get('extension/readme.md')?.toString('utf8') ?? '';
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g), ...readme.matchAll(/<img [^>]*src="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(images.length >= 3, `only ${images.length} images in the packaged README`);
  for (const src of images) assert.match(src, /^https:\/\//, `README image ${src} is not absolute`);
  // …and the files they point at are in the repository, where the rewritten URLs lead.
  const source = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  for (const m of source.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)) {
    if (!/^https?:/.test(m[1]!)) assert.ok(fs.existsSync(path.join(root, m[1]!)), `README.md shows ${m[1]}, which does not exist`);
  }
  fs.rmSync(path.dirname(vsix), { recursive: true, force: true });
});
