/**
 * Fetch PDFs: the stages resolve → enrich → locate → download → commit. Stage functions only read
 * the network and write their own temp files; every change to storage goes through the writer.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, copyFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { isInside } from '../paths';
import type { BibEntry, BibFile } from '../bib/parse';
import { normalizeDoi, isValidDoi } from '../doi';
import { fieldText } from '../bib/latex';
import * as crossref from '../sources/crossref';
import * as openalex from '../sources/openalex';
import * as unpaywall from '../sources/unpaywall';
import * as s2 from '../sources/semanticScholar';
import * as doiOrg from '../sources/doi';
import type { WorkRecord } from '../sources/types';
import { inspectPdf, verifyPdfText } from '../pdf/inspect';
import { downloadTempPath, metadataPath, pdfPath } from '../storage/layout';
import { syncFile } from '../storage/atomic';
import { validateMetadata, type Metadata, type MetadataPatch, type Notice } from '../storage/metadata';
import type { StageContext, StageDef, StageResult } from '../pipeline/pipeline';
import { ScholarError, errorCode, errorMessage, isAbortError, isPermanent, isServiceDown } from '../errors';
import type { Library } from './library';
import { resolvePdfUrls, type PdfResolver } from '../resolvers/zotero';
import { matchOf, resolveStage } from './stages/resolve';
import type { BatchOptions } from '../pipeline/batcher';
import { BatchLookup } from './batchLookup';
import type { FetchItem, PdfCandidate, PdfSourceName } from './item';
import { ALL_PDF_SOURCES } from './item';
import type { FallbackRule } from '../resolve/plausible';
import { extractFulltext } from '../fulltext/extract';

export { ALL_PDF_SOURCES, type FetchItem, type PdfCandidate, type PdfSourceName } from './item';

export interface FetchOptions {
  sources?: readonly PdfSourceName[];
  /** Size cap per PDF (bytes). */
  maxPdfBytes?: number;
  concurrency?: Partial<Record<'resolve' | 'enrich' | 'locate' | 'download' | 'commit', number>>;
  /**
   * Micro-batching per service: most keys per request and how long the first one waits (defaults:
   * OpenAlex 100, Crossref 100, Semantic Scholar 500; 50 ms). The DOIs the job knows up front are
   * asked before the stages need them; the wait only gathers DOIs found on the way (by resolve).
   */
  batch?: { openalex?: Partial<BatchOptions>; crossref?: Partial<BatchOptions>; semanticScholar?: Partial<BatchOptions> };
  /** Custom PDF resolvers (scholar.pdf.resolvers), asked after the open-access sources. */
  resolvers?: readonly PdfResolver[];
  /** Which entries the slow resolve fallbacks are asked for when an entry needs a DOI (resolve/plausible.ts). */
  fallbackRule?: FallbackRule;
}

/**
 * Entries downloading or waiting for their host at once. A worker waiting in a busy host's queue
 * is cheap (a promise, no socket), and with too few of them the entries of an idle host wait
 * behind it; each host still gets at most 2 downloads at once (the per-host PDF politeness).
 */
export const DEFAULT_DOWNLOAD_WORKERS = 128;

const next = (item: FetchItem): StageResult<FetchItem> => ({ kind: 'next', item });
const fail = (item: FetchItem, reason: string, message: string, permanent: boolean): StageResult<FetchItem> => ({ kind: 'fail', item, reason, message, permanent });

function noticesOf(work: WorkRecord): Notice[] {
  const out: Notice[] = [];
  for (const u of work.updates ?? []) {
    const type = u.type === 'retraction' || u.type === 'withdrawal' || u.type === 'removal' ? 'retraction' : u.type === 'correction' || u.type === 'erratum' || u.type === 'corrigendum' ? 'correction' : u.type === 'expression_of_concern' ? 'expression_of_concern' : 'other';
    out.push({ type, doi: u.doi, date: u.date, source: work.source });
  }
  if (work.isRetracted && !out.some((n) => n.type === 'retraction')) out.push({ type: 'retraction', source: work.source });
  return out;
}

/** The metadata patch describing a work, with where each field came from. */
export function workPatch(work: WorkRecord): MetadataPatch {
  const patch: MetadataPatch = { provenance: {} };
  const prov = patch.provenance!;
  const set = <K extends keyof MetadataPatch>(k: K, v: MetadataPatch[K] | undefined) => {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) return;
    patch[k] = v;
    prov[k as string] = work.source;
  };
  set('doi', work.doi);
  set('title', work.title);
  set('authors', work.authors.map((a) => ({ family: a.family, ...(a.given ? { given: a.given } : {}) })));
  set('year', work.year);
  set('venue', work.venue);
  set('type', work.type);
  set('abstract', work.abstract);
  const notices = noticesOf(work);
  if (notices.length) set('notices', notices);
  if (work.arxivId) patch.identifiers = { arxiv: work.arxivId };
  return patch;
}

/** The patch that records an entry as read from the .bib (before any service answered). */
export function bibPatch(item: { file: BibFile; entry: BibEntry; bibPath: string }): MetadataPatch {
  const e = item.entry;
  const title = fieldText(e, 'title');
  const y = /\d{4}/.exec(fieldText(e, 'year') ?? fieldText(e, 'date') ?? '')?.[0];
  const doiRaw = e.fields.get('doi')?.value;
  const doi = doiRaw ? normalizeDoi(doiRaw) : undefined;
  const patch: MetadataPatch = { provenance: {} };
  if (title) {
    patch.title = title;
    patch.provenance!.title = 'bib';
  }
  if (y) {
    patch.year = Number(y);
    patch.provenance!.year = 'bib';
  }
  if (doi && isValidDoi(doi)) {
    patch.doi = doi;
    patch.provenance!.doi = 'bib';
  }
  patch.type = e.type;
  return patch;
}

function entryPdfCandidates(item: FetchItem, root: string): PdfCandidate[] {
  const out: PdfCandidate[] = [];
  const url = item.entry.fields.get('url')?.value.trim();
  if (url && /^https?:\/\//i.test(url) && /\.pdf(\?|#|$)/i.test(url)) out.push({ url, source: 'entry' });
  // `file` may point to the user's own PDF: read it, never write there. Only files inside the workspace.
  const file = item.entry.fields.get('file')?.value;
  if (file) {
    const p = file.split(';').map((s) => s.split(':').find((x) => /\.pdf$/i.test(x)) ?? '').find(Boolean);
    if (p) {
      const abs = path.resolve(path.dirname(item.bibPath), p);
      const ws = path.dirname(root);
      if (isInside(ws, abs) && existsSync(abs)) out.push({ url: `file://${abs}`, source: 'entry' });
    }
  }
  return out;
}

/** A verified paper.pdf whose bytes match what its metadata.json records. */
async function storedOnDisk(root: string, key: string): Promise<boolean> {
  try {
    const meta = validateMetadata(JSON.parse(await readFile(metadataPath(root, key), 'utf8')));
    if (!meta.pdf || (meta.pdf.verified !== 'doi' && meta.pdf.verified !== 'title' && meta.pdf.verified !== 'manual')) return false;
    const bytes = await readFile(pdfPath(root, key));
    return bytes.length === meta.pdf.size && createHash('sha256').update(bytes).digest('hex') === meta.pdf.sha256;
  } catch {
    return false;
  }
}

/** The DOI an entry will be fetched under, as far as the .bib and the index tell before any stage runs (mirrors the resolve stage). */
function knownDoi(lib: Library, item: FetchItem): string | undefined {
  const meta = lib.index.get(item.key);
  if (meta?.pdf && (meta.pdf.verified === 'doi' || meta.pdf.verified === 'title' || meta.pdf.verified === 'manual')) return undefined;
  const raw = item.entry.fields.get('doi')?.value;
  const m = meta?.match;
  if (raw && (m?.outcome === 'doi_unknown' || m?.outcome === 'doi_mismatch')) return undefined;
  if (raw && isValidDoi(normalizeDoi(raw))) return normalizeDoi(raw);
  if (!raw && meta?.doi && m?.outcome !== 'review') return meta.doi;
  return undefined;
}

const isArxivDoi = (doi: string) => /^10\.48550\//i.test(doi);

/**
 * The fetch stages. `items`: the job's entries, whose known DOIs are looked up in batches (Crossref,
 * OpenAlex, Semantic Scholar) as soon as the first entry reaches enrich, rather than at the pace at
 * which entries arrive there.
 */
export function fetchStages(lib: Library, opts: FetchOptions = {}, items: readonly FetchItem[] = []): StageDef<FetchItem>[] {
  const http = lib.http;
  const sources = new Set(opts.sources ?? ALL_PDF_SOURCES);
  const c = opts.concurrency ?? {};
  const wait = (b: Partial<BatchOptions> | undefined) => b?.maxWaitMs ?? 50;
  // filter=doi:A|B|… (locate).
  const openalexBatch = new BatchLookup(
    {
      size: Math.min(opts.batch?.openalex?.size ?? openalex.OPENALEX_BATCH_MAX, openalex.OPENALEX_BATCH_MAX),
      maxWaitMs: wait(opts.batch?.openalex),
      run: (dois, signal) => openalex.worksByDois(http, dois, signal),
    },
    openalex.batchableDoi,
  );
  // filter=doi:A,doi:B,… (enrich's metadata).
  const crossrefBatch = new BatchLookup(
    {
      size: Math.min(opts.batch?.crossref?.size ?? crossref.CROSSREF_BATCH_MAX, crossref.CROSSREF_BATCH_MAX),
      maxWaitMs: wait(opts.batch?.crossref),
      run: (dois, signal) => crossref.worksByDois(http, dois, signal),
    },
    crossref.crossrefBatchable,
  );
  // POST /graph/v1/paper/batch (locate's second tier). Keys are lower-cased DOIs, sent as DOI:….
  const s2Batch = new BatchLookup(
    {
      size: Math.min(opts.batch?.semanticScholar?.size ?? s2.S2_BATCH_MAX, s2.S2_BATCH_MAX),
      maxWaitMs: wait(opts.batch?.semanticScholar),
      run: async (dois, signal) => {
        const byId = await s2.papersByIds(http, dois.map(s2.s2DoiId), signal);
        return new Map(dois.flatMap((d) => (byId.has(s2.s2DoiId(d)) ? [[d, byId.get(s2.s2DoiId(d))!] as const] : [])));
      },
    },
    () => true,
  );
  let primed = false;
  /** Every known DOI leaves in batches at once; the gates pace them. */
  const primeAll = (signal: AbortSignal) => {
    if (primed) return;
    primed = true;
    const dois = [...new Set(items.map((i) => knownDoi(lib, i)?.toLowerCase()).filter((d): d is string => !!d))];
    crossrefBatch.prime(dois, signal);
    const oa = dois.filter((d) => !isArxivDoi(d));
    if (sources.has('openalex')) openalexBatch.prime(oa, signal);
    if (sources.has('semanticScholar')) s2Batch.prime(oa, signal);
  };

  async function askUnpaywall(item: FetchItem, doi: string | undefined, add: (c: PdfCandidate) => void, warn: (s: string, e: unknown) => void, ctx: StageContext): Promise<void> {
    if (!doi || !sources.has('unpaywall') || !http.email || item.unpaywallAsked || item.openalexClosed) return;
    item.unpaywallAsked = true;
    try {
      const u = await unpaywall.lookup(http, doi, ctx.signal);
      for (const l of u?.oaLocations ?? []) if (l.pdfUrl) add({ url: l.pdfUrl, source: 'unpaywall', license: l.license, version: l.version });
    } catch (err) {
      warn('unpaywall', err);
    }
  }

  /** PDF candidates from one tier of sources: 'first' (the entry, OpenAlex, Unpaywall where OpenAlex has no PDF, arXiv) or 'second' (Unpaywall if not yet asked, Semantic Scholar, resolvers, the landing page). */
  async function locate(item: FetchItem, tier: 'first' | 'second', ctx: StageContext): Promise<PdfCandidate[]> {
    const found: PdfCandidate[] = [];
    const add = (cand: PdfCandidate | undefined) => {
      if (cand && !found.some((f) => f.url === cand.url) && !(item.candidates ?? []).some((f) => f.url === cand.url)) found.push(cand);
    };
    const warn = (service: string, err: unknown) => {
      if (isAbortError(err)) throw err;
      // Reported once for the whole job by the HTTP layer; the entry remembers it for its outcome.
      if (isServiceDown(err)) {
        item.downCode ??= errorCode(err);
        return;
      }
      ctx.emit({ type: 'log', level: 'warn', message: `${item.key}: ${service} failed (${errorCode(err)}: ${errorMessage(err)})` });
    };
    const doi = item.doi && !/^10\.48550\//i.test(item.doi) ? item.doi : undefined;
    if (tier === 'first') {
      if (sources.has('entry')) for (const cand of entryPdfCandidates(item, lib.root)) add(cand);
      let openalexPdf = false;
      if (doi && sources.has('openalex')) {
        try {
          const o = await openalexBatch.get(doi.toLowerCase(), ctx.signal, () => openalex.workByDoi(http, doi, ctx.signal));
          for (const l of o?.oaLocations ?? []) if (l.pdfUrl) add({ url: l.pdfUrl, source: 'openalex', license: l.license, version: l.version });
          openalexPdf = (o?.oaLocations ?? []).some((l) => !!l.pdfUrl);
          // Since 2025 Unpaywall runs on OpenAlex's code and data (docs/decisions.md): a work OpenAlex
          // knows and calls closed is closed to Unpaywall too. Unknown to OpenAlex, or open without a
          // PDF URL (a landing page only), Unpaywall is still asked.
          if (o) item.openalexClosed = !o.oaLocations?.length;
          item.arxivId ??= o?.arxivId;
        } catch (err) {
          warn('openalex', err);
        }
      }
      // Unpaywall runs on OpenAlex's data: asked only when OpenAlex has no PDF URL (or could not answer).
      if (!openalexPdf) await askUnpaywall(item, doi, add, warn, ctx);
      if (sources.has('arxiv')) {
        const id = item.arxivId ?? (item.doi && /^10\.48550\/arxiv\.(.+)$/i.exec(item.doi)?.[1]);
        if (id) add({ url: `${http.base('arxiv').replace(/\/api$/, '')}/pdf/${id}`, source: 'arxiv', version: 'submittedVersion', license: undefined });
      }
      return found;
    }
    item.secondTierTried = true;
    // OpenAlex's PDFs all failed: Unpaywall may know another copy (before Semantic Scholar, as before).
    await askUnpaywall(item, doi, add, warn, ctx);
    // Unpaywall here stands in for its old first-tier place: the landing page is still asked when
    // the second tier's own sources (Semantic Scholar, resolvers) find nothing.
    const beforeSecondTier = found.length;
    if (doi && sources.has('semanticScholar')) {
      try {
        const p = await s2Batch.get(doi.toLowerCase(), ctx.signal, () => s2.paperByDoi(http, doi, ctx.signal));
        for (const l of p?.oaLocations ?? []) if (l.pdfUrl) add({ url: l.pdfUrl, source: 'semanticScholar', license: l.license, version: l.version });
      } catch (err) {
        warn('semanticScholar', err);
      }
    }
    // The user's own resolvers (their library's link resolver, a lab's service): after the
    // open-access sources, before guessing from the publisher's page.
    for (const r of doi ? (opts.resolvers ?? []) : []) {
      try {
        for (const url of await resolvePdfUrls(http, r, doi!, ctx.signal)) add({ url, source: `resolver:${r.name}` });
      } catch (err) {
        warn(`resolver "${r.name}"`, err);
      }
    }
    if (doi && sources.has('landingPage') && found.length === beforeSecondTier) {
      try {
        const page = await doiOrg.landingPage(http, doi, ctx.signal);
        const pdf = doiOrg.citationPdfUrl(page.html, page.finalUrl);
        if (pdf) add({ url: pdf, source: 'landingPage' });
      } catch (err) {
        warn('landing page', err);
      }
    }
    return found;
  }

  return [
    resolveStage(lib, { kind: 'fetch', concurrency: c.resolve ?? 8, fallbackRule: opts.fallbackRule, hasOwnPdf: (item) => entryPdfCandidates(item, lib.root).length > 0, items }),
    {
      name: 'enrich',
      concurrency: c.enrich ?? 8,
      async run(item, ctx) {
        let work = item.work;
        primeAll(ctx.signal);
        if (item.doi && (!work || work.source !== 'crossref')) {
          const doi = item.doi;
          try {
            work = (await crossrefBatch.get(doi.toLowerCase(), ctx.signal, () => crossref.workByDoi(http, doi, ctx.signal))) ?? work;
          } catch (err) {
            if (isAbortError(err)) throw err;
            // Metadata is a bonus: a failing Crossref must not stop the PDF.
            if (!isServiceDown(err)) ctx.emit({ type: 'log', level: 'warn', message: `${item.key}: Crossref metadata unavailable (${errorCode(err)})` });
          }
        }
        item.work = work;
        const patch: MetadataPatch = { ...bibPatch(item) };
        if (work) Object.assign(patch, workPatch(work), { provenance: { ...patch.provenance, ...workPatch(work).provenance } });
        if (item.doi) patch.doi = item.doi;
        if (item.arxivId) patch.identifiers = { ...(patch.identifiers ?? {}), arxiv: item.arxivId };
        // Set only when this job resolved the entry, which the resolve stage never does for an entry with a user decision.
        if (item.resolve && item.resolve.outcome !== 'has_doi') patch.match = matchOf(item.resolve);
        ctx.emit({ type: 'result', key: item.key, stage: 'enrich', data: patch });
        return next(item);
      },
    },
    {
      name: 'locate',
      concurrency: c.locate ?? 16,
      async run(item, ctx) {
        // In order of trust, and lazily: Semantic Scholar (1 req/s) and the landing page are asked
        // only when the first sources have no PDF, or when their PDFs fail (download stage).
        let found = await locate(item, 'first', ctx);
        if (!found.length) found = await locate(item, 'second', ctx);
        if (!found.length) {
          // "No PDF" is only a verdict when every source could be asked; otherwise a retry may find one.
          if (item.downCode) return fail(item, item.downCode, 'a source could not be asked (see the job log); retry later', false);
          return fail(item, 'E_NO_PDF', 'no open-access PDF found', true);
        }
        item.candidates = found;
        return next(item);
      },
    },
    {
      name: 'download',
      concurrency: c.download ?? DEFAULT_DOWNLOAD_WORKERS,
      async run(item, ctx) {
        // Another window or the CLI may be fetching this key right now: leave it to them.
        const lock = await lib.locks.tryLock(item.key);
        if (!lock) return fail(item, 'E_LOCKED', 'another Scholar process is fetching this entry', false);
        // Another window or the CLI may have stored it since this run started: look at the disk, not our index.
        if (await storedOnDisk(lib.root, item.key)) {
          await lock.release();
          return { kind: 'done', item, outcome: 'already_stored' };
        }
        const tried: string[] = [];
        let lastCode = 'E_NO_PDF';
        let lastPermanent = true;
        let kept: FetchItem['download'];
        try {
          const queue = [...(item.candidates ?? [])];
          for (let cand = queue.shift(); cand; cand = queue.shift()) {
            const temp = await downloadTempPath(lib.root, item.key, 'pdf');
            try {
              let sha256: string;
              let size: number;
              if (cand.url.startsWith('file://')) {
                await copyFile(cand.url.slice('file://'.length), temp);
                const buf = await readFile(temp);
                sha256 = createHash('sha256').update(buf).digest('hex');
                size = buf.length;
              } else {
                const r = await http.download(cand.url, temp, { signal: ctx.signal, maxBytes: opts.maxPdfBytes, expect: 'pdf' });
                sha256 = r.sha256;
                size = r.bytes;
              }
              // One pdf.js pass serves the identity check (first pages) and the full-text index (all of it).
              const facts = await inspectPdf(temp, { fullText: true, signal: ctx.signal });
              const verdict = verifyPdfText(facts, { doi: item.doi, title: fieldText(item.entry, 'title') ?? item.work?.title });
              if (verdict === 'mismatch') throw new ScholarError('E_PDF_MISMATCH', 'the PDF names neither the DOI nor the title of the entry');
              const candidate = { tempPath: temp, sha256, size, pages: facts.pages ?? undefined, candidate: cand, verified: verdict, text: facts.fullText };
              if (verdict === 'unverified' && !kept) {
                // No text layer: keep it as a fallback, but a verifiable copy elsewhere is better.
                kept = candidate;
                continue;
              }
              if (kept && kept.tempPath !== temp) await rm(kept.tempPath, { force: true });
              // Synced here, by one of many download workers: the single writer's move then finds it clean.
              if (lib.writer.syncs) await syncFile(temp);
              item.download = candidate;
              return next(item);
            } catch (err) {
              await rm(temp, { force: true });
              if (isAbortError(err) || ctx.signal.aborted) throw err;
              lastCode = errorCode(err);
              const status = (err as ScholarError).details?.status as number | undefined;
              lastPermanent = isPermanent(lastCode, status);
              tried.push(`${cand.source}: ${lastCode}${status ? ` ${status}` : ''}`);
            }
            // Every copy so far failed: now ask the sources kept for last.
            if (queue.length === 0 && !kept && !item.secondTierTried) {
              const more = await locate(item, 'second', ctx);
              item.candidates = [...(item.candidates ?? []), ...more];
              queue.push(...more);
            }
          }
          if (kept) {
            if (lib.writer.syncs) await syncFile(kept.tempPath);
            item.download = kept;
            return next(item);
          }
          item.tried = tried;
          return fail(item, lastCode, `no usable PDF (${tried.join('; ')})`, lastPermanent);
        } catch (err) {
          if (kept) await rm(kept.tempPath, { force: true });
          throw err;
        } finally {
          // The lock is released after commit (see the commit stage) only if we have a file to commit.
          if (!item.download) await lock.release();
        }
      },
    },
    {
      name: 'commit',
      concurrency: c.commit ?? 2,
      async run(item, ctx) {
        const d = item.download!;
        try {
          const meta: Metadata = await lib.writer.commitPdf(item.key, d.tempPath, {
            sourceUrl: d.candidate.url.startsWith('file://') ? 'file' : d.candidate.url,
            source: d.candidate.source,
            license: d.candidate.license,
            version: d.candidate.version,
            sha256: d.sha256,
            size: d.size,
            pages: d.pages,
            retrievedAt: new Date().toISOString(),
            verified: d.verified,
          });
          // Text for full-text search. The PDF stays stored if pdf.js cannot read it (`scholar index --fulltext` tries again).
          await extractFulltext(lib, item.key, ctx.signal, d.text).catch((err) => isAbortError(err) || ctx.emit({ type: 'log', level: 'warn', message: `${item.key}: no full text (${errorMessage(err)})` }));
          return { kind: 'done', item, outcome: meta.pdf?.verified === 'unverified' ? 'stored_unverified' : 'stored' };
        } catch (err) {
          await rm(d.tempPath, { force: true });
          throw err;
        } finally {
          await lib.locks.release(item.key);
        }
      },
    },
  ];
}
