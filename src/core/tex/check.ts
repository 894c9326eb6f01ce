/**
 * `scholar check` and the editor's diagnostics: every finding of a project in one list — parse
 * errors, duplicates, malformed DOIs (bib/check.ts) and keys cited but defined in no .bib.
 */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { checkBibFiles, type Finding } from '../bib/lint';
import { discoverProject, loadBibFile, type LoadedBib, type Project } from './project';

export interface CheckOptions {
  storageFolder?: string;
  exclude?: (relPath: string) => boolean;
  signal?: AbortSignal;
}

/** Keys cited in .tex files that no .bib of the project defines. */
export function undefinedCitations(project: Project, bibs: readonly LoadedBib[]): Finding[] {
  const defined = new Set<string>();
  for (const b of bibs) for (const e of b.file.entries) defined.add(e.key);
  const out: Finding[] = [];
  for (const [key, places] of project.citedKeys) {
    if (defined.has(key)) continue;
    for (const p of places) {
      out.push({ code: 'W_UNDEFINED_CITATION', severity: 'warning', message: `'${key}' is cited but defined in no .bib file`, file: p.file, line: p.line, column: p.column, key });
    }
  }
  return out;
}

export async function checkProject(target: string, opts: CheckOptions = {}): Promise<Finding[]> {
  const st = await stat(target);
  if (st.isFile()) {
    const bib = await loadBibFile(target, opts.signal);
    return checkBibFiles([{ path: bib.path, file: bib.file }]);
  }
  const project = await discoverProject(target, opts);
  const bibs: LoadedBib[] = [];
  for (const p of project.bibFiles) bibs.push(await loadBibFile(p, opts.signal));
  const findings = [
    ...checkBibFiles(bibs.map((b) => ({ path: b.path, file: b.file }))),
    ...undefinedCitations(project, bibs),
    ...project.missing.map(
      (m): Finding => ({ code: 'W_MISSING_FILE', severity: 'warning', message: `${m.kind} '${m.name}' not found`, file: m.file, line: m.line, column: m.column }),
    ),
  ];
  return findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code)).map((f) => ({ ...f, file: path.resolve(f.file) }));
}
