// Entry of the extension-host test suite: VS Code requires this module (extensionTestsPath) after
// loading the development extension and awaits run(). The same module runs in code-server and in
// desktop VS Code. Results go to SCHOLAR_TEST_RESULTS as JSON for the runner, which cannot see the
// extension host's exit code from the browser.
import * as fs from 'node:fs';
import { SourceMap } from 'node:module';
import * as path from 'node:path';
import { registry, writeAtomic, type RegisteredTest } from './util';

// Test modules, imported statically so that esbuild bundles them into this file.
import './activation.test';
import './resolve.test';
import './fetch.test';
import './dashboard.test';
import './latex.test';
import './security.test';
import './storage.test';
import './watch.test';
import './network.test';
import './restricted.test';
import './pdfs.test';
import './addUpdate.test';
import './upgrade.test';
import './cite.test';
import './firstRun.test';
import './dashboardA11y.test';
import './remotePdf.test';

import './fulltext.test';

import './multiRoot.test';
import './accessibility.test';

export interface TestResult {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

export interface SuiteResults {
  passed: number;
  failed: number;
  tests: TestResult[];
}

function runOne(t: RegisteredTest): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`test timed out after ${t.timeoutMs} ms`)), t.timeoutMs);
    Promise.resolve()
      .then(() => t.fn())
      .then(
        () => resolve(),
        (err: unknown) => reject(err),
      )
      .finally(() => clearTimeout(timer));
  });
}

let sourceMap: SourceMap | null | undefined;

/**
 * The extension host runs without --enable-source-maps (and drops NODE_OPTIONS), so stack frames in
 * this bundle are mapped back to test/suite/*.ts and src/**.ts here, from esbuild's inline source map.
 */
function mapStack(stack: string): string {
  if (sourceMap === undefined) {
    sourceMap = null;
    try {
      const text = fs.readFileSync(__filename, 'utf8');
      const m = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(text);
      if (m) sourceMap = new SourceMap(JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8')));
    } catch {
      // leave the stack as it is
    }
  }
  const map = sourceMap;
  if (!map) return stack;
  const file = __filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return stack.replace(new RegExp(`${file}:(\\d+):(\\d+)`, 'g'), (whole, line: string, col: string) => {
    const e = map.findEntry(Number(line) - 1, Number(col) - 1) as Partial<{
      originalSource: string;
      originalLine: number;
      originalColumn: number;
    }>;
    if (!e.originalSource || e.originalLine === undefined || e.originalColumn === undefined) return whole;
    const src = path.resolve(path.dirname(__filename), e.originalSource.replace(/^file:\/\//, ''));
    return `${src}:${e.originalLine + 1}:${e.originalColumn + 1}`;
  });
}

function describeError(err: unknown): string {
  if (err instanceof Error) return mapStack(err.stack ?? `${err.name}: ${err.message}`);
  return String(err);
}


export async function run(): Promise<void> {
  const resultsFile = process.env.SCHOLAR_TEST_RESULTS;
  const progressFile = resultsFile ? `${resultsFile}.progress` : undefined;
  const grep = process.env.SCHOLAR_TEST_GREP ? new RegExp(process.env.SCHOLAR_TEST_GREP) : undefined;
  const selected = registry.filter((t) => !grep || grep.test(t.name));

  const results: SuiteResults = { passed: 0, failed: 0, tests: [] };
  for (const t of selected) {
    const started = Date.now();
    let result: TestResult;
    try {
      await runOne(t);
      result = { name: t.name, ok: true, ms: Date.now() - started };
      results.passed++;
    } catch (err) {
      result = { name: t.name, ok: false, error: describeError(err), ms: Date.now() - started };
      results.failed++;
    }
    results.tests.push(result);
    // One line per finished test, so that the runner can print progress while the suite runs.
    if (progressFile) fs.appendFileSync(progressFile, JSON.stringify(result) + '\n');
    console.log(`[scholar-test] ${result.ok ? 'ok  ' : 'FAIL'} ${t.name} (${result.ms} ms)${result.error ? `\n${result.error}` : ''}`);
  }

  if (resultsFile) writeAtomic(resultsFile, JSON.stringify(results, null, 2));
  console.log(`[scholar-test] ${results.passed} passed, ${results.failed} failed`);
  // Desktop VS Code (test-electron) turns a rejected run() into a non-zero exit code.
  if (results.failed > 0) throw new Error(`${results.failed} extension-host test(s) failed`);
}
