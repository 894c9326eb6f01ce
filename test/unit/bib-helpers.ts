import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest folder above this file (or the cwd) holding package.json. */
export function repoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    let d = start;
    for (;;) {
      if (existsSync(path.join(d, 'package.json')) && existsSync(path.join(d, 'test/fixtures'))) return d;
      const up = path.dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  throw new Error('repository root not found');
}

export const bibFixtureDir = (): string => path.join(repoRoot(), 'test/fixtures/bib');

export function bibFixtures(): string[] {
  return readdirSync(bibFixtureDir())
    .filter((f) => f.endsWith('.bib'))
    .sort();
}

export function readFixture(name: string): Buffer {
  return readFileSync(path.join(bibFixtureDir(), name));
}

/** Entry counts of the fixture files (line-start `@type{` scan, see docs/decisions.md). */
export const FIXTURE_COUNTS: Record<string, number> = {
  'bbt-issue873-ai-bibliography.bib': 988,
  'bbt-mendeley-export.bib': 512,
  'biblatex-apa-test-references.bib': 283,
  'biblatex-examples.bib': 92,
  'd2l-2022-12.bib': 526,
  'jabref-complex.bib': 20,
  'thesis-sharkdp-all.bib': 430,
};
