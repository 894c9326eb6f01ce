/** `scholar add` and `scholar update`: the daily loop's commands over the same core as the editor. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { CliOptions } from './args';
import { writeJson, type CliIO } from './io';
import { ScholarError } from '../core/errors';
import { loadBibFile, type LoadedBib } from '../core/tex/project';
import { parseBib } from '../core/bib/parse';
import { unifiedDiffOfEdits } from '../core/resolve/writeback';
import { ScholarHttp } from '../core/net/http';
import { SCHOLAR_VERSION } from '../core/version';
import { Library } from '../core/jobs/library';
import { Job } from '../core/jobs/run';
import { metadataPath } from '../core/storage/layout';
import { addedMetadata, fetchIdentifiers, planAdditions } from '../core/add/add';
import { validateKeyPattern } from '../core/add/key';
import { keptFields, planUpdateEdits, proposeUpdates, PROVENANCE_PREFIX } from '../core/update/update';
import { UPDATE_FIELDS } from '../core/update/compare';
import { writeEditsToFile } from '../core/update/write';
import type { MetadataPatch } from '../core/storage/metadata';

function httpOptions(opts: CliOptions, io: CliIO) {
  return {
    version: SCHOLAR_VERSION,
    email: opts.mailto ?? io.env.SCHOLAR_MAILTO ?? undefined,
    endpoints: opts.endpoints,
    apiKeys: { openalex: io.env.OPENALEX_API_KEY, semanticScholar: io.env.S2_API_KEY },
  };
}

async function loadOrEmpty(file: string, io: CliIO): Promise<{ bib: LoadedBib; exists: boolean }> {
  if (existsSync(file)) return { bib: await loadBibFile(file, io.signal), exists: true };
  if (!existsSync(path.dirname(file))) throw new ScholarError('E_NOT_FOUND', `no such folder: ${path.dirname(file)}`);
  return { bib: { path: file, encoding: 'utf8', bom: false, file: parseBib('') }, exists: false };
}

export async function runAdd(opts: CliOptions, io: CliIO): Promise<number> {
  if (!opts.to) throw new ScholarError('E_USAGE', 'add needs --to FILE.bib');
  if (!/\.bib$/i.test(opts.to)) throw new ScholarError('E_USAGE', `--to: not a .bib file: ${opts.to}`);
  if (opts.keyPattern) validateKeyPattern(opts.keyPattern);
  const target = path.resolve(io.cwd, opts.to);
  const storage = path.resolve(io.cwd, opts.storage);
  const { bib, exists } = await loadOrEmpty(target, io);
  const http = new ScholarHttp(httpOptions(opts, io));
  let fetched;
  try {
    fetched = await fetchIdentifiers(http, opts.positionals, { signal: io.signal });
  } finally {
    await http.close();
  }
  const plan = planAdditions(bib.file, fetched, { keyPattern: opts.keyPattern });
  const rel = path.relative(io.cwd, target) || path.basename(target);
  let fetchOutcome: Record<string, string> | undefined;
  if (plan.edit) {
    if (opts.dryRun) {
      const diff = unifiedDiffOfEdits(bib.file.text, [plan.edit], rel);
      if (!opts.json) io.stdout.write(diff);
    } else {
      await writeEditsToFile(bib, [plan.edit], { exists });
      const added = plan.results.filter((r) => r.outcome === 'added' && r.record);
      // The library learns about the new entries only where one exists already, or for --fetch.
      if (existsSync(storage) || opts.fetch) {
        const lib = await Library.open(storage, { http: httpOptions(opts, io) });
        try {
          for (const r of added) await lib.writer.writeMetadata(r.key!, addedMetadata(r.record!));
          if (opts.fetch) {
            const fresh = await loadBibFile(target, io.signal);
            const keys = new Set(added.map((r) => r.key!));
            const entries = fresh.file.entries.filter((e) => keys.has(e.key)).map((entry) => ({ key: entry.key, bibPath: target, file: fresh.file, entry }));
            const job = new Job(lib, { kind: 'fetch', entries, signal: io.signal });
            await job.run();
            fetchOutcome = Object.fromEntries([...job.results.values()].map((x) => [x.key, x.outcome]));
          }
        } finally {
          await lib.close();
        }
      }
    }
  }
  const results = plan.results.map((r) => ({
    id: r.id,
    key: r.key ?? null,
    outcome: r.outcome,
    ...(r.existingKey ? { existingKey: r.existingKey } : {}),
    ...(r.message ? { message: r.message } : {}),
    ...(fetchOutcome && r.key && fetchOutcome[r.key] ? { pdf: fetchOutcome[r.key] } : {}),
  }));
  if (opts.json) writeJson(io, { command: 'add', file: rel, dryRun: opts.dryRun, results });
  else {
    for (const r of results) {
      const what = r.outcome === 'added' ? `added as ${r.key}` : r.outcome === 'duplicate' ? `already in ${rel} as ${r.existingKey}` : `${r.outcome.replace(/_/g, ' ')}: ${r.message ?? ''}`;
      io.stderr.write(`  ${r.id}: ${what}${'pdf' in r ? ` (PDF: ${r.pdf})` : ''}\n`);
    }
    const n = results.filter((r) => r.outcome === 'added').length;
    io.stderr.write(`add: ${n} ${opts.dryRun ? 'would be added' : 'added'} to ${rel}, ${results.length - n} not\n`);
  }
  return results.some((r) => !['added', 'duplicate'].includes(r.outcome)) ? 1 : 0;
}

export async function runUpdate(opts: CliOptions, io: CliIO): Promise<number> {
  const target = path.resolve(io.cwd, opts.positionals[0]);
  if (!/\.bib$/i.test(target)) throw new ScholarError('E_USAGE', `update takes a .bib file: ${opts.positionals[0]}`);
  if (!existsSync(target)) throw new ScholarError('E_NOT_FOUND', `no such file: ${opts.positionals[0]}`);
  let fields: Set<string> | undefined;
  if (opts.fields) {
    fields = new Set(opts.fields.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
    const unknown = [...fields].filter((f) => !(UPDATE_FIELDS as readonly string[]).includes(f));
    if (unknown.length) throw new ScholarError('E_USAGE', `--fields: unknown field ${unknown.join(', ')} (one of ${UPDATE_FIELDS.join(', ')})`);
    // year and date are one field in two dialects.
    if (fields.has('year')) fields.add('date');
    if (fields.has('date')) fields.add('year');
  }
  const storage = path.resolve(io.cwd, opts.storage);
  const bib = await loadBibFile(target, io.signal);
  // Fields the user kept (in the editor's review) are remembered in metadata.json.
  const kept = new Map<string, Set<string>>();
  if (existsSync(storage)) {
    for (const e of bib.file.entries) {
      try {
        const meta = JSON.parse(await readFile(metadataPath(storage, e.key), 'utf8')) as { provenance?: Record<string, string> };
        const k = keptFields(meta.provenance);
        if (k.size) kept.set(e.key, k);
      } catch {
        /* no metadata for this entry */
      }
    }
  }
  const http = new ScholarHttp(httpOptions(opts, io));
  let updates;
  try {
    updates = await proposeUpdates(http, bib.file, { fields, kept: (k) => kept.get(k), signal: io.signal });
  } finally {
    await http.close();
  }
  const proposals = updates.flatMap((u) => u.proposals);
  const { edits } = planUpdateEdits(bib.file, proposals);
  const rel = path.relative(io.cwd, target) || path.basename(target);
  if (opts.dryRun) {
    if (!opts.json) io.stdout.write(unifiedDiffOfEdits(bib.file.text, edits, rel));
  } else {
    if (edits.length) await writeEditsToFile(bib, edits);
    if (existsSync(storage)) {
      const lib = await Library.open(storage, { http: httpOptions(opts, io) });
      try {
        for (const u of updates) {
          if (u.outcome === 'skipped' || u.outcome === 'no_doi' || u.outcome === 'failed') continue;
          const patch: MetadataPatch = { provenance: Object.fromEntries(u.proposals.map((p) => [PROVENANCE_PREFIX + p.field, p.source])) };
          if (u.notices) patch.notices = u.notices.length ? u.notices : null;
          await lib.writer.writeMetadata(u.key, patch);
        }
      } finally {
        await lib.close();
      }
    }
  }
  const changes = proposals.map((p) => ({ key: p.key, field: p.field, old: p.old, new: p.new, source: p.source }));
  const entries = updates.map((u) => ({ key: u.key, outcome: u.outcome, ...(u.message ? { message: u.message } : {}), ...(u.notices?.length ? { notices: u.notices } : {}) }));
  if (opts.json) writeJson(io, { command: 'update', file: rel, dryRun: opts.dryRun, changes, entries });
  else {
    for (const u of updates) {
      if (u.outcome === 'mismatch' || u.outcome === 'failed' || u.outcome === 'not_found') io.stderr.write(`  ${u.key}: ${u.outcome.replace(/_/g, ' ')}: ${u.message ?? ''}\n`);
      for (const n of u.notices ?? []) io.stderr.write(`  ${u.key}: ${n.type.replace(/_/g, ' ')} notice${n.doi ? ` ${n.doi}` : ''}\n`);
    }
    const n = new Set(proposals.map((p) => p.key)).size;
    io.stderr.write(`update: ${proposals.length} field${proposals.length === 1 ? '' : 's'} in ${n} entr${n === 1 ? 'y' : 'ies'} ${opts.dryRun ? 'would change' : 'changed'}, ${updates.filter((u) => u.outcome === 'unchanged').length} entries already agree\n`);
  }
  return updates.some((u) => u.outcome === 'failed') ? 1 : 0;
}
