// Every user-facing string of the VS Code layer goes through vscode.l10n.t, the manifest's strings
// through package.nls.json, and the English bundles list exactly the messages the code uses.
// `npm run l10n` rewrites l10n/bundle.l10n.json from the sources (SCHOLAR_L10N_WRITE=1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TS from 'typescript';
import { repoRoot } from './bib-helpers';

const root = repoRoot();
// Loaded from node_modules at run time (a computed path, so the test bundle does not carry the compiler).
const ts: typeof TS = require(path.join(root, 'node_modules', 'typescript'));

function hostFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) out.push(p);
    }
  };
  walk(path.join(root, 'src/host'));
  return out.sort();
}

/** Two words of prose: what a person reads, as opposed to ids, keys, paths and format strings. */
const isProse = (s: string) => /[A-Za-z]{2,}[a-z,.'’…:]*\s+[A-Za-z(]/.test(s);
/** Webview HTML and CSP source lists are markup, and a settings query starts with '@'. */
const isMarkup = (s: string) => /^\s*</.test(s) || /-src\b/.test(s) || /^@/.test(s);
/** `vscode.l10n.t`, or `t` of src/host/model/l10n.ts (the pure model modules, which cannot import vscode). */
const isL10nCall = (src: TS.SourceFile, n: TS.Node): n is TS.CallExpression => ts.isCallExpression(n) && /^(vscode\.l10n\.t|l10n\.t|t)$/.test(n.expression.getText(src));
/** The log is for diagnosis (VS Code does not localise logs either). */
const isLogCall = (src: TS.SourceFile, n: TS.CallExpression) => /(^|\.)log\.(info|warn|error|debug|trace|append|appendLine)$|^console\./.test(n.expression.getText(src));
const isShowMessage = (src: TS.SourceFile, n: TS.CallExpression) => /(^|\.)show(Information|Warning|Error)Message$/.test(n.expression.getText(src));

interface Scan {
  /** Prose outside l10n.t, as `file:line: text`. */
  raw: string[];
  /** Every message passed to l10n.t, with the number of arguments that fill it. */
  messages: Map<string, number>;
  /** l10n.t calls whose message is not a literal (a translator could never see it). */
  dynamic: string[];
}

function scan(): Scan {
  const out: Scan = { raw: [], messages: new Map(), dynamic: [] };
  for (const file of hostFiles()) {
    const text = fs.readFileSync(file, 'utf8');
    const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const lines = text.split('\n');
    const where = (n: TS.Node) => `${path.relative(root, file)}:${src.getLineAndCharacterOfPosition(n.getStart(src)).line + 1}`;
    const buttons = new Set<string>();
    const flag = (n: TS.Node) => out.raw.push(`${where(n)}: ${n.getText(src).slice(0, 100)}`);
    const visit = (n: TS.Node): void => {
      if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) return;
      if (isL10nCall(src, n)) {
        const [first, ...rest] = n.arguments;
        if (first && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first))) out.messages.set(first.text, rest.length);
        else if (!/l10n-ignore/.test(lines[src.getLineAndCharacterOfPosition(n.getStart(src)).line]!)) out.dynamic.push(where(n));
        rest.forEach(visit);
        return;
      }
      if (ts.isCallExpression(n) && isLogCall(src, n)) return;
      if (ts.isNewExpression(n) && n.expression.getText(src) === 'RegExp') return;
      if (ts.isCallExpression(n) && isShowMessage(src, n)) {
        // Button labels are read by the user even when they are one word.
        for (const a of n.arguments.slice(1)) if (ts.isStringLiteral(a)) (buttons.add(a.text), flag(a));
      }
      // A property's name and a literal type are code, not text.
      if (ts.isLiteralTypeNode(n) || (n.parent && ts.isPropertyAssignment(n.parent) && n.parent.name === n)) return;
      if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateExpression(n)) {
        const flat = ts.isTemplateExpression(n) ? n.head.text + n.templateSpans.map((s) => `X${s.literal.text}`).join('') : n.text;
        const line = lines[src.getLineAndCharacterOfPosition(n.getStart(src)).line] ?? "";
        if (isProse(flat) && !isMarkup(flat) && !/l10n-ignore/.test(line)) {
          flag(n);
          return;
        }
        if (!ts.isTemplateExpression(n)) return;
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
    // A button's answer compared with its English text would break once translated.
    const compare = (n: TS.Node): void => {
      if (isL10nCall(src, n)) return n.arguments.slice(1).forEach(compare);
      if (ts.isStringLiteral(n) && buttons.has(n.text)) {
        const p = n.parent;
        if ((ts.isBinaryExpression(p) && /^[!=]==?$/.test(p.operatorToken.getText(src))) || ts.isCaseClause(p)) flag(n);
      }
      ts.forEachChild(n, compare);
    };
    compare(src);
  }
  return out;
}

const placeholders = (m: string) => new Set([...m.matchAll(/\{(\d+)\}/g)].map((x) => Number(x[1])));

test('every user-facing string in src/host goes through vscode.l10n.t', () => {
  const s = scan();
  assert.deepEqual(s.raw, [], `wrap these in vscode.l10n.t (or mark a non-prose line // l10n-ignore):\n${s.raw.join('\n')}`);
  assert.deepEqual(s.dynamic, [], 'l10n.t takes a literal message, so that the bundle lists it');
  for (const [m, args] of s.messages) {
    const used = placeholders(m);
    for (let i = 0; i < args; i++) assert.ok(used.has(i), `"${m}" gets ${args} arguments but has no {${i}}`);
    for (const i of used) assert.ok(i < args, `"${m}" has {${i}} but gets ${args} arguments`);
  }
});

test('l10n/bundle.l10n.json lists exactly the messages the host uses', () => {
  const file = path.join(root, 'l10n/bundle.l10n.json');
  const want = Object.fromEntries([...scan().messages.keys()].sort().map((m) => [m, m]));
  if (process.env.SCHOLAR_L10N_WRITE === '1') {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(want, null, 2)}\n`);
  }
  const have = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
  assert.deepEqual(Object.keys(have).sort(), Object.keys(want), 'run `npm run l10n` to regenerate the bundle');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { l10n?: string };
  assert.equal(pkg.l10n, './l10n', 'package.json points VS Code at the bundles');
});

test("the manifest's user-facing strings come from package.nls.json", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const nls = JSON.parse(fs.readFileSync(path.join(root, 'package.nls.json'), 'utf8')) as Record<string, string>;
  const raw: string[] = [];
  const used = new Set<string>();
  const userFacing = /^(title|description|markdownDescription|deprecationMessage|markdownDeprecationMessage|enumDescriptions|markdownEnumDescriptions|name|label|contextualTitle|shortTitle|altText|contents)$/;
  const walk = (v: unknown, at: string, key: string) => {
    if (typeof v === 'string') {
      const m = /^%(.+)%$/.exec(v);
      if (m) used.add(m[1]);
      else if (userFacing.test(key) && isProse(v)) raw.push(`${at}: ${v.slice(0, 80)}`);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`, k);
  };
  walk(pkg.contributes, 'contributes', '');
  walk(pkg.description, 'description', 'description');
  walk(pkg.displayName, 'displayName', 'name');
  assert.deepEqual(raw, [], 'use %key% and put the English text in package.nls.json');
  for (const k of used) assert.ok(k in nls, `package.nls.json has no "${k}"`);
  for (const k of Object.keys(nls)) assert.ok(used.has(k), `package.nls.json's "${k}" is used nowhere`);
});
