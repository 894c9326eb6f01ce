/**
 * The library index: an in-memory sql.js database persisted as storage/library.sqlite.
 * It is a cache of by_key/*\/metadata.json — missing, corrupt or outdated, it is rebuilt.
 *
 * Search runs on TextSearch, an inverted index held in memory beside the database and derived
 * from its entries table (built on first use or by warmSearch(), then kept current on every
 * insert and delete). sql.js's FTS4 was measured too slow for the 10 ms target; see
 * docs/decisions.md.
 *
 * sql.js rules this module keeps: `export()` closes and reopens the database, freeing every
 * prepared statement, so no statement outlives a method call.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic, SqlValue, Statement } from 'sql.js';
import { ScholarError } from '../errors';
import { keyToFolderName } from '../storage/keys';
import { FULLTEXT_FILE, jobStatePath, METADATA_FILE, storagePaths } from '../storage/layout';
import { parseJobState, type JobStateV1 } from '../storage/jobState';
import type { Metadata } from '../storage/metadata';
import { listKeyFolders, readKeyFolder } from '../storage/scan';
import { parseFulltext } from '../storage/fulltext';
import { FullTextColumn, type Snippet, type SnippetTerm } from './fullText';
import { TextFile } from './snippetFile';
import { normText, TextSearch, tokenize, type Query, type SearchDoc } from './textSearch';

/**
 * 2: the FTS4 table is gone (search is TextSearch). 3: the jobs table is gone (job state is read
 * from storage/jobs/). A file of another version is rebuilt.
 */
export const INDEX_SCHEMA_VERSION = '3';

export interface LibraryIndexOptions {
  /** Where sql-wasm.wasm is; default: beside the bundle. */
  wasmPath?: string;
  /** Re-read folders whose metadata.json changed since the index was saved (default true). */
  reconcile?: boolean;
  signal?: AbortSignal;
}

export interface SearchOptions {
  limit?: number;
  offset?: number;
  /** How many of the rows returned get a snippet of their full text around the hit (default: all of them; each reads its file). */
  snippets?: number;
}

export interface SearchHit {
  key: string;
  folder: string;
  title?: string;
  authors: string;
  year?: number;
  venue?: string;
  type?: string;
  doi?: string;
  hasPdf: boolean;
  doiStatus: string;
  pdfStatus: string;
  score: number;
  /** The words of the query in the paper's full text, with some context (when it has a text and they are in it). */
  snippet?: Snippet;
}

export interface IndexStats {
  entries: number;
  withPdf: number;
  withDoi: number;
  byDoiStatus: Record<string, number>;
  byPdfStatus: Record<string, number>;
  jobs: number;
}

export interface RebuildReport {
  count: number;
  errors: { folder: string; message: string }[];
}

/** A job as the index lists it: its state file, parsed (storage/jobState.ts). */
export type JobRecord = JobStateV1;

export type OpenedFrom = 'file' | 'rebuilt';

const sqlJsByPath = new Map<string, Promise<SqlJsStatic>>();

export function loadSqlJs(wasmPath: string): Promise<SqlJsStatic> {
  let p = sqlJsByPath.get(wasmPath);
  if (!p) {
    p = initSqlJs({ locateFile: () => wasmPath }).catch((err: unknown) => {
      sqlJsByPath.delete(wasmPath);
      throw new ScholarError('E_INDEX_WASM', `cannot load sql.js from ${wasmPath}: ${String(err)}`, { wasmPath }, { cause: err });
    });
    sqlJsByPath.set(wasmPath, p);
  }
  return p;
}

const SCHEMA = `
CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE entries(
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  folder TEXT NOT NULL,
  doi TEXT, title TEXT, year INTEGER, venue TEXT, type TEXT,
  has_pdf INTEGER NOT NULL DEFAULT 0,
  doi_status TEXT NOT NULL, pdf_status TEXT NOT NULL,
  retracted INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT, meta_mtime REAL,
  authors TEXT NOT NULL DEFAULT '', abstract TEXT NOT NULL DEFAULT '',
  json TEXT NOT NULL);
CREATE INDEX entries_year ON entries(year);
CREATE INDEX entries_doi ON entries(doi);
CREATE TABLE authors(key TEXT NOT NULL, pos INTEGER NOT NULL, family TEXT NOT NULL, given TEXT, family_norm TEXT NOT NULL, PRIMARY KEY(key, pos));
CREATE INDEX authors_norm ON authors(family_norm);
CREATE TABLE identifiers(key TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(key, kind));
CREATE INDEX identifiers_value ON identifiers(kind, value);
CREATE TABLE tags(key TEXT NOT NULL, tag TEXT NOT NULL, tag_norm TEXT NOT NULL, PRIMARY KEY(key, tag));
CREATE INDEX tags_norm ON tags(tag_norm);
`;

function doiStatusOf(m: Metadata): string {
  return m.match?.outcome ?? (m.doi ? 'has_doi' : 'unresolved');
}

function authorsText(m: Metadata): string {
  return (m.authors ?? []).map((a) => (a.given ? `${a.given} ${a.family}` : a.family)).join('; ');
}

const TOKEN_RE = /(-?)([a-z]+):("[^"]*"|\S+)|"([^"]*)"|(\S+)/gi;

/**
 * Parses `smith "deep learning" year:2010..2015 -has:pdf tag:ml`: bare words are prefixes (results
 * appear while typing), quoted text is a phrase, `field:value` a filter, `-` before a filter negates it.
 */
export function parseQuery(q: string): Query {
  const out: Query = { text: [], filters: [] };
  const words = (s: string) => {
    for (const token of tokenize(s)) out.text.push({ kind: 'prefix', token });
  };
  for (const m of q.matchAll(TOKEN_RE)) {
    const [, dash, field, rawValue, phrase, word] = m;
    if (phrase !== undefined) {
      const tokens = tokenize(phrase);
      if (tokens.length === 1) out.text.push({ kind: 'word', token: tokens[0]! });
      else if (tokens.length) out.text.push({ kind: 'phrase', tokens });
      continue;
    }
    if (word !== undefined) {
      words(word);
      continue;
    }
    const neg = dash === '-';
    const f = field!.toLowerCase();
    const value = rawValue!.replace(/^"|"$/g, '');
    const v = normText(value);
    switch (f) {
      case 'author':
        out.filters.push({ neg, kind: 'author', prefix: v });
        break;
      case 'year': {
        const r = /^(\d{1,4})?(?:(\.\.)(\d{1,4})?)?$/.exec(v);
        if (!r || (!r[1] && !r[3])) throw new ScholarError('E_BAD_QUERY', `year filter must look like 2010, 2010..2015, ..2015 or 2010..: ${value}`);
        const from = r[1] ? Number(r[1]) : undefined;
        const to = r[2] ? (r[3] ? Number(r[3]) : undefined) : from;
        out.filters.push({ neg, kind: 'year', from, to });
        break;
      }
      case 'tag':
        out.filters.push({ neg, kind: 'tag', tag: v });
        break;
      case 'has':
        if (v !== 'pdf' && v !== 'doi' && v !== 'abstract') throw new ScholarError('E_BAD_QUERY', `has: takes pdf, doi or abstract, not ${value}`);
        out.filters.push({ neg, kind: 'has', what: v });
        break;
      case 'status':
        out.filters.push({ neg, kind: 'status', status: v });
        break;
      case 'type':
        out.filters.push({ neg, kind: 'type', type: v });
        break;
      case 'venue':
        out.filters.push({ neg, kind: 'venue', prefixes: tokenize(value) });
        break;
      case 'doi':
        out.filters.push({ neg, kind: 'doi', doi: value.toLowerCase() });
        break;
      case 'key':
        out.filters.push({ neg, kind: 'key', key: value });
        break;
      case 'text': {
        if (neg) throw new ScholarError('E_BAD_QUERY', `-text: is not supported; search text:${value} and look at what is left`);
        const tokens = tokenize(value);
        const quoted = rawValue!.startsWith('"');
        if (tokens.length > 1) out.text.push({ kind: 'phrase', tokens, scope: 'text' });
        else if (tokens.length) out.text.push({ kind: quoted ? 'word' : 'prefix', token: tokens[0]!, scope: 'text' });
        break;
      }
      default:
        // Not a filter we know (e.g. "re:action"): search it as text.
        words(m[0]);
    }
  }
  return out;
}

export class LibraryIndex {
  private db: Database;
  private getStatement: Statement | undefined;
  private closed = false;
  /** How the index came to be: loaded from library.sqlite or rebuilt from folders. */
  openedFrom: OpenedFrom = 'file';
  rebuildReason?: string;

  private constructor(
    db: Database,
    readonly storageRoot: string,
  ) {
    this.db = db;
  }

  static defaultWasmPath(): string {
    return path.join(__dirname, 'sql-wasm.wasm');
  }

  /** Loads storage/library.sqlite when present and valid; otherwise rebuilds from the folders. */
  static async open(storageRoot: string, opts: LibraryIndexOptions = {}): Promise<LibraryIndex> {
    const SQL = await loadSqlJs(opts.wasmPath ?? LibraryIndex.defaultWasmPath());
    const file = storagePaths(storageRoot).index;
    let reason: string | undefined;
    let bytes: Uint8Array | undefined;
    try {
      bytes = await fsp.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      reason = 'missing';
    }
    if (bytes) {
      let db: Database | undefined;
      try {
        db = new SQL.Database(bytes);
        const check = db.exec('PRAGMA quick_check')[0]?.values[0]?.[0];
        if (check !== 'ok') throw new Error(`quick_check: ${String(check)}`);
        const ver = db.exec("SELECT v FROM meta WHERE k = 'schema_version'")[0]?.values[0]?.[0];
        if (ver !== INDEX_SCHEMA_VERSION) throw new Error(`schema version ${String(ver)}`);
        const idx = new LibraryIndex(db, storageRoot);
        if (opts.reconcile !== false) await idx.reconcile(opts.signal);
        return idx;
      } catch (err) {
        db?.close();
        reason = `invalid: ${(err as Error).message ?? String(err)}`;
      }
    }
    const idx = new LibraryIndex(LibraryIndex.freshDb(SQL), storageRoot);
    await idx.rebuildFromFolders(opts.signal);
    idx.openedFrom = 'rebuilt';
    idx.rebuildReason = reason;
    return idx;
  }

  /** An empty index not tied to a file (tests, benchmarks). */
  static async createEmpty(storageRoot: string, opts: { wasmPath?: string } = {}): Promise<LibraryIndex> {
    const SQL = await loadSqlJs(opts.wasmPath ?? LibraryIndex.defaultWasmPath());
    return new LibraryIndex(LibraryIndex.freshDb(SQL), storageRoot);
  }

  private static freshDb(SQL: SqlJsStatic): Database {
    const db = new SQL.Database();
    db.exec(SCHEMA);
    db.run("INSERT INTO meta(k, v) VALUES ('schema_version', ?)", [INDEX_SCHEMA_VERSION]);
    return db;
  }

  private live(): Database {
    if (this.closed) throw new ScholarError('E_INDEX_CLOSED', 'the library index is closed');
    return this.db;
  }

  private transaction<T>(fn: (db: Database) => T): T {
    const db = this.live();
    db.exec('BEGIN');
    try {
      const r = fn(db);
      db.exec('COMMIT');
      return r;
    } catch (err) {
      db.exec('ROLLBACK');
      // The search side may hold part of what was rolled back: drop it; it is rebuilt when needed.
      this.dropSearch();
      throw err;
    }
  }

  private scalar(sql: string, params: SqlValue[] = []): SqlValue | undefined {
    const stmt = this.live().prepare(sql, params);
    try {
      return stmt.step() ? stmt.get()[0] : undefined;
    } finally {
      stmt.free();
    }
  }

  private rows(sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] {
    const stmt = this.live().prepare(sql, params);
    const out: Record<string, SqlValue>[] = [];
    try {
      while (stmt.step()) out.push(stmt.getAsObject());
    } finally {
      stmt.free();
    }
    return out;
  }

  private upsertIn(db: Database, meta: Metadata, mtimeMs: number | null): void {
    const key = meta.key;
    const oldId = this.scalar('SELECT id FROM entries WHERE key = ?', [key]);
    if (oldId !== undefined) this.deleteIn(db, key, oldId as number);
    // The abstract is stored once, in its column (the FTS table reads it from there too).
    const { abstract: _abstract, ...withoutAbstract } = meta;
    const retracted = (meta.notices ?? []).some((n) => n.type === 'retraction') ? 1 : 0;
    db.run(
      `INSERT INTO entries(key, folder, doi, title, year, venue, type, has_pdf, doi_status, pdf_status, retracted, updated_at, meta_mtime, authors, abstract, json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        key,
        keyToFolderName(key),
        meta.doi?.toLowerCase() ?? null,
        meta.title ?? null,
        meta.year ?? null,
        meta.venue ?? null,
        meta.type ?? null,
        meta.pdf ? 1 : 0,
        doiStatusOf(meta),
        meta.pdf?.verified ?? 'none',
        retracted,
        meta.updatedAt,
        mtimeMs,
        authorsText(meta),
        meta.abstract ?? '',
        JSON.stringify(withoutAbstract),
      ],
    );
    const id = this.scalar('SELECT last_insert_rowid()') as number;
    (meta.authors ?? []).forEach((a, pos) => {
      db.run('INSERT INTO authors(key, pos, family, given, family_norm) VALUES (?, ?, ?, ?, ?)', [key, pos, a.family, a.given ?? null, normText(a.family)]);
    });
    for (const [kind, value] of Object.entries(meta.identifiers)) {
      if (typeof value === 'string') db.run('INSERT INTO identifiers(key, kind, value) VALUES (?, ?, ?)', [key, kind, value]);
    }
    for (const tag of new Set(meta.tags ?? [])) db.run('INSERT INTO tags(key, tag, tag_norm) VALUES (?, ?, ?)', [key, tag, normText(tag)]);
    this.searchAdded(id, {
      key,
      title: meta.title ?? null,
      authors: authorsText(meta),
      abstract: meta.abstract ?? '',
      venue: meta.venue ?? null,
      year: meta.year ?? null,
      hasPdf: !!meta.pdf,
      doi: meta.doi?.toLowerCase() ?? null,
      doiStatus: doiStatusOf(meta),
      pdfStatus: meta.pdf?.verified ?? 'none',
      retracted: retracted === 1,
      type: meta.type ?? null,
      tags: [...new Set(meta.tags ?? [])].map(normText),
      families: (meta.authors ?? []).map((a) => normText(a.family)),
      names: (meta.authors ?? []).map((a) => a.family).join('; '),
    });
  }

  private deleteIn(db: Database, key: string, id: number): void {
    this.searchRemoved(id);
    db.run('DELETE FROM authors WHERE key = ?', [key]);
    db.run('DELETE FROM identifiers WHERE key = ?', [key]);
    db.run('DELETE FROM tags WHERE key = ?', [key]);
    db.run('DELETE FROM entries WHERE id = ?', [id]);
  }

  /** Adds or replaces an entry. `mtimeMs` is metadata.json's mtime, used by reconcile(). */
  upsert(meta: Metadata, mtimeMs: number | null = null): void {
    this.transaction((db) => this.upsertIn(db, meta, mtimeMs));
  }

  upsertMany(items: { meta: Metadata; mtimeMs?: number | null }[]): void {
    this.transaction((db) => {
      for (const it of items) this.upsertIn(db, it.meta, it.mtimeMs ?? null);
    });
  }

  remove(key: string): boolean {
    this.fullText.remove(key);
    return this.transaction((db) => {
      const id = this.scalar('SELECT id FROM entries WHERE key = ?', [key]);
      if (id === undefined) return false;
      this.deleteIn(db, key, id as number);
      return true;
    });
  }

  /** Every entry's metadata (without abstracts) in one query: for views that show the whole library. */
  allMetadata(): Map<string, Metadata> {
    const out = new Map<string, Metadata>();
    const stmt = this.live().prepare('SELECT key, json FROM entries');
    try {
      while (stmt.step()) {
        const [key, json] = stmt.get() as [string, string];
        out.set(key, JSON.parse(json) as Metadata);
      }
    } finally {
      stmt.free();
    }
    return out;
  }

  get(key: string): Metadata | undefined {
    // Prepared once: a job asks for each of its entries at its start, and preparing cost as much
    // as the lookup (a 5,000-entry fetch spent 1.2 s of its first seconds here). export() frees it.
    let stmt = this.getStatement;
    try {
      stmt?.bind([key]);
    } catch {
      stmt = undefined;
    }
    if (!stmt) {
      stmt = this.live().prepare('SELECT json, abstract FROM entries WHERE key = ?', [key]);
      this.getStatement = stmt;
    }
    try {
      if (!stmt.step()) return undefined;
      const [json, abstract] = stmt.get();
      const meta = JSON.parse(json as string) as Metadata;
      if (abstract) meta.abstract = abstract as string;
      return meta;
    } finally {
      stmt.reset();
    }
  }

  keys(): string[] {
    return this.rows('SELECT key FROM entries ORDER BY key').map((r) => r.key as string);
  }

  /**
   * Free text over title, authors, abstract and venue (bare words match as prefixes, "quoted
   * phrases" exactly) plus filters: author:NAME (family-name prefix), year:2010 | 2010..2015 |
   * ..2015 | 2010.., tag:T, has:pdf|doi|abstract, status:S (DOI outcome, PDF verification, or
   * `retracted`), type:T, venue:V, doi:D, key:K; `-` before a filter negates it (entries
   * without the field then match). Ranked by BM25 (title weighted highest) when there is free
   * text, else newest first, undated last.
   */
  search(query: string, opts: SearchOptions = {}): SearchHit[] {
    const limit = Math.max(1, Math.min(opts.limit ?? 50, 10_000));
    const offset = Math.max(0, opts.offset ?? 0);
    const q = parseQuery(query);
    // A text:"phrase" is admitted by pair filters with about 0.2 % of false positives: each row is
    // checked on its text, in rank order, until the page is full.
    const phrases: SnippetTerm[] = q.text.flatMap((t) => (t.kind === 'phrase' && t.scope === 'text' ? [{ tokens: t.tokens, prefix: false }] : []));
    const byKey = storagePaths(this.storageRoot).byKey;
    this.fullText.beginQuery();
    const ts = this.textSearch();
    const loadText = (ids: number[]) => this.loadText(ids);
    let page: { ids: number[]; scores: number[] };
    const patterns: SnippetTerm[] = q.text.flatMap((t) => {
      if (t.kind === 'phrase') return t.scope === 'text' ? [{ tokens: t.tokens, prefix: false }] : [];
      return [{ tokens: [t.token], prefix: t.scope === 'text' && t.kind === 'prefix' && t.token.length >= 3 }];
    });
    let snippetsLeft = patterns.length ? Math.max(0, opts.snippets ?? limit) : 0;
    /** Snippets made while a row's text was open for its phrase check. */
    const made = new Map<number, Snippet | undefined>();
    if (!phrases.length) page = ts.search(q, limit, offset, loadText, { column: this.fullText });
    else {
      // Rows in rank order, each checked on its text, until offset + limit hold the phrase or
      // none are left: the page is then exactly that of the phrase's definition.
      // Room for false positives and for texts that hold the words but not the phrase: asking
      // again ranks everything again (a few ms with common words), so ask generously.
      const want = offset + limit;
      let ask = 2 * want + 16;
      // One phrase alone: its text is read first around where its rarest word first is (a kB or
      // two), which holds the phrase's first occurrence when there is one — any occurrence holds
      // that word, no earlier than there; not found there, the whole text decides.
      // Only where that word occurs once in the paper: its one place is then where the phrase is,
      // if anywhere; a word occurring more often is rarely first where the phrase is (the whole
      // text at once is cheaper then).
      const pivot = patterns.length === 1 ? this.fullText.rarestWord(phrases[0]!.tokens)?.id : undefined;
      const ids: number[] = [];
      const scores: number[] = [];
      let checked = 0;
      for (;;) {
        const ranked = ts.search(q, ask, 0, loadText, { column: this.fullText });
        for (; checked < ranked.ids.length && ids.length < want; checked++) {
          const key = ranked.keys[checked]!;
          const textPath = path.join(byKey, keyToFolderName(key), FULLTEXT_FILE);
          const pc = pivot === undefined ? -1 : this.fullText.placeAndCount(key, [pivot]);
          const place = pc >= 0 && pc >> 8 === 1 ? pc & 255 : -1;
          const file = place >= 0 ? TextFile.read(textPath, place, this.fullText.textLength(key)) : TextFile.readWhole(textPath, this.fullText.textLength(key));
          if (!file) continue;
          try {
            if (!phrases.every((t) => file.has(t))) continue;
            if (ids.length >= offset && snippetsLeft > 0) {
              snippetsLeft--;
              made.set(ranked.ids[checked]!, file.snippet(patterns));
            }
          } finally {
            file.close();
          }
          ids.push(ranked.ids[checked]!);
          scores.push(ranked.scores[checked]!);
        }
        if (ids.length >= want || ranked.ids.length < ask) break;
        ask *= 4;
      }
      page = { ids: ids.slice(offset), scores: scores.slice(offset) };
    }
    if (!page.ids.length) return [];
    const out: SearchHit[] = [];
    page.ids.forEach((id, i) => {
      const r = ts.hitRow(id);
      if (!r || out.length >= limit) return;
      const key = r.key;
      const folder = keyToFolderName(key);
      let snippet = made.get(id);
      let file: TextFile | undefined;
      try {
        // The ranking's postings recorded where the first query word of each paper is.
        const place = snippetsLeft > 0 && !made.has(id) ? this.fullText.placeOf(key) : -1;
        if (place >= 0) {
          snippetsLeft--;
          // Read where the column says the first query word is (a kB or two), not the whole text.
          file ??= TextFile.read(path.join(byKey, folder, FULLTEXT_FILE), place, this.fullText.textLength(key));
          snippet = file?.snippet(patterns);
        }
      } finally {
        file?.close();
      }
      out.push(
        {
          key,
          folder,
          title: r.title ?? undefined,
          authors: r.authors,
          year: r.year ?? undefined,
          venue: r.venue ?? undefined,
          type: r.type ?? undefined,
          doi: r.doi ?? undefined,
          hasPdf: r.hasPdf,
          doiStatus: r.doiStatus,
          pdfStatus: r.pdfStatus,
          score: page.scores[i]!,
          ...(snippet ? { snippet } : {}),
        },
      );
    });
    return out;
  }

  /**
   * Builds the search side in slices, yielding to the event loop between them, so a large
   * library does not stall the extension host at its first search. Writes made meanwhile are
   * taken in; a search made meanwhile finishes the build at once.
   */
  async warmSearch(opts: { signal?: AbortSignal; sliceSize?: number } = {}): Promise<void> {
    if (this.search_ || this.closed) return;
    const b = this.building ?? (this.building = { engine: new TextSearch(), cursor: 0 });
    while (this.building === b && !this.closed) {
      opts.signal?.throwIfAborted();
      if (this.buildSlice(b, opts.sliceSize ?? 500)) return;
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Whether the search side is built; for tests and reports. */
  get searchReady(): boolean {
    return this.search_ !== undefined;
  }

  /** What the built search side holds, for reports (undefined until built). */
  searchFootprint(): { entries: number; postings: number; typedArrayBytes: number } | undefined {
    const s = this.search_;
    return s && { entries: s.size, postings: s.postings, typedArrayBytes: s.typedArrayBytes };
  }

  private search_: TextSearch | undefined;
  private readonly fullText = new FullTextColumn();
  private fullTextLoad: Promise<void> | undefined;
  private fullTextLoaded = false;
  private fullTextGen = 0;
  /** Keys the writer gave a text while a load ran: the load must not put an older one back. */
  private readonly fullTextSetDuringLoad = new Set<string>();

  /**
   * Reads every stored PDF's fulltext.txt into the full-text column, in slices that yield to the
   * event loop. Texts whose header names another PDF than metadata.json are left out (stale).
   * Searches meanwhile see the texts read so far.
   */
  warmFullText(opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.fullTextLoad) return this.fullTextLoad;
    const p: Promise<void> = this.loadFullText(opts.signal).then(
      () => {
        if (this.fullTextLoad === p) this.fullTextLoaded = true;
      },
      (err: unknown) => {
        if (this.fullTextLoad === p) this.fullTextLoad = undefined;
        throw err;
      },
    );
    this.fullTextLoad = p;
    return p;
  }

  /** Whether every stored text has been read into the column (false while warmFullText runs). */
  get fullTextReady(): boolean {
    return this.fullTextLoaded;
  }

  /** Papers, words and postings of the full-text column, for reports. */
  fullTextFootprint(): ReturnType<FullTextColumn['footprint']> {
    return this.fullText.footprint();
  }

  /** The writer's hook: `key`'s fulltext.txt was written (or removed, with undefined). */
  setFullText(key: string, text: string | undefined): void {
    if (this.fullTextLoad && !this.fullTextLoaded) this.fullTextSetDuringLoad.add(key);
    if (text === undefined) this.fullText.remove(key);
    else this.fullText.set(key, text);
    // Texts added one by one (extraction, attach) pile up in small segments: merge them in the background.
    if (this.fullTextLoaded && !this.fullTextMerge && this.fullText.compactionDue()) {
      this.fullTextMerge = this.compactFullText(false).finally(() => (this.fullTextMerge = undefined));
    }
  }

  private fullTextMerge: Promise<void> | undefined;

  /** Runs the column's merge (FullTextColumn.compact) in slices of about 8 ms between yields. */
  private async compactFullText(all: boolean): Promise<void> {
    let sliceStart = Date.now();
    for (const _ of this.fullText.compact(all)) {
      if (this.closed) return;
      if (Date.now() - sliceStart > 8) {
        await new Promise((r) => setImmediate(r));
        sliceStart = Date.now();
      }
    }
  }

  private async loadFullText(signal?: AbortSignal): Promise<void> {
    const gen = ++this.fullTextGen;
    this.fullText.clear();
    this.fullTextSetDuringLoad.clear();
    const byKey = storagePaths(this.storageRoot).byKey;
    const rows = this.rows('SELECT key, folder, json FROM entries WHERE has_pdf = 1 ORDER BY key').map((r) => ({
      key: r.key as string,
      folder: r.folder as string,
      sha256: (JSON.parse(r.json as string) as Metadata).pdf?.sha256,
    }));
    const read = (i: number) =>
      fsp.readFile(path.join(byKey, rows[i]!.folder, FULLTEXT_FILE), 'utf8').then(
        (s) => s,
        () => undefined,
      );
    // A few reads ahead of the tokenizer, so the disk and the CPU overlap.
    const AHEAD = 8;
    const pending: Promise<string | undefined>[] = [];
    for (let i = 0; i < Math.min(AHEAD, rows.length); i++) pending.push(read(i));
    let sliceStart = Date.now();
    for (let i = 0; i < rows.length; i++) {
      signal?.throwIfAborted();
      const content = await pending[i]!;
      // Closed, or superseded by a newer load (a rebuild): that one owns the column now.
      if (this.closed || gen !== this.fullTextGen) return;
      pending[i] = Promise.resolve(undefined);
      if (i + AHEAD < rows.length) pending.push(read(i + AHEAD));
      const row = rows[i]!;
      if (content === undefined || this.fullTextSetDuringLoad.has(row.key)) continue;
      const rec = parseFulltext(content);
      if (rec && rec.sha256 === row.sha256) this.fullText.set(row.key, rec.text);
      if (Date.now() - sliceStart > 8) {
        await new Promise((r) => setImmediate(r));
        sliceStart = Date.now();
      }
    }
    this.fullText.seal();
    // One large segment instead of one per 64 papers (a query word then costs one lookup, not 157).
    if (gen === this.fullTextGen) await this.compactFullText(true);
  }

  private building: { engine: TextSearch; cursor: number } | undefined;

  private textSearch(): TextSearch {
    if (this.search_) return this.search_;
    const b = this.building ?? (this.building = { engine: new TextSearch(), cursor: 0 });
    while (!this.buildSlice(b, 5000));
    return this.search_!;
  }

  /** Reads the next `n` entries into the build; true when the build is complete. */
  private buildSlice(b: { engine: TextSearch; cursor: number }, n: number): boolean {
    b.engine.bulk = true;
    const stmt = this.live().prepare(
      `SELECT e.id, e.key, e.title, e.authors, e.abstract, e.venue, e.year, e.has_pdf, e.doi, e.doi_status, e.pdf_status, e.retracted, e.type,
        (SELECT group_concat(tag_norm, char(31)) FROM tags t WHERE t.key = e.key),
        (SELECT group_concat(family_norm, char(31)) FROM (SELECT family_norm FROM authors a WHERE a.key = e.key ORDER BY pos)),
        (SELECT group_concat(family, '; ') FROM (SELECT family FROM authors a WHERE a.key = e.key ORDER BY pos))
       FROM entries e WHERE e.id > ? ORDER BY e.id LIMIT ?`,
      [b.cursor, n],
    );
    let count = 0;
    try {
      while (stmt.step()) {
        const r = stmt.get();
        b.engine.add(r[0] as number, {
          key: r[1] as string,
          title: r[2] as string | null,
          authors: r[3] as string,
          abstract: r[4] as string,
          venue: r[5] as string | null,
          year: r[6] as number | null,
          hasPdf: r[7] === 1,
          doi: r[8] as string | null,
          doiStatus: r[9] as string,
          pdfStatus: r[10] as string,
          retracted: r[11] === 1,
          type: r[12] as string | null,
          tags: r[13] ? (r[13] as string).split('\x1f') : [],
          families: r[14] ? (r[14] as string).split('\x1f') : [],
          names: (r[15] as string | null) ?? '',
        });
        b.cursor = r[0] as number;
        count++;
      }
    } finally {
      stmt.free();
    }
    if (count === n) return false;
    b.engine.bulk = false;
    b.engine.merge();
    this.search_ = b.engine;
    this.building = undefined;
    return true;
  }

  private searchAdded(id: number, doc: SearchDoc): void {
    if (this.search_) this.search_.add(id, doc);
    // A build in progress reads ids above its cursor itself (a new row's id is above every other).
    else if (this.building && id <= this.building.cursor) this.building.engine.add(id, doc);
  }

  private searchRemoved(id: number): void {
    (this.search_ ?? this.building?.engine)?.remove(id);
  }

  private dropSearch(): void {
    this.search_ = undefined;
    this.building = undefined;
  }

  private loadText(ids: number[]): Map<number, [string, string, string, string]> {
    const out = new Map<number, [string, string, string, string]>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      for (const r of this.rows(`SELECT id, title, authors, abstract, venue FROM entries WHERE id IN (${chunk.map(() => '?').join(',')})`, chunk)) {
        out.set(r.id as number, [(r.title as string | null) ?? '', r.authors as string, r.abstract as string, (r.venue as string | null) ?? '']);
      }
    }
    return out;
  }

  /** Replaces the whole index with what by_key/*\/metadata.json says. Invalid folders are reported, not fatal. */
  async rebuildFromFolders(signal?: AbortSignal): Promise<RebuildReport> {
    const byKey = storagePaths(this.storageRoot).byKey;
    const folders = await listKeyFolders(byKey);
    const errors: RebuildReport['errors'] = [];
    const items: { meta: Metadata; mtimeMs: number }[] = [];
    await forEachLimit(folders, 64, signal, async (folder) => {
      const r = await readKeyFolder(byKey, folder);
      if ('meta' in r) items.push(r);
      else if (r.error) errors.push({ folder, message: r.error });
    });
    signal?.throwIfAborted();
    items.sort((a, b) => (a.meta.key < b.meta.key ? -1 : a.meta.key > b.meta.key ? 1 : 0));
    this.transaction((db) => {
      this.dropSearch();
      this.search_ = new TextSearch();
      db.exec('DELETE FROM authors; DELETE FROM identifiers; DELETE FROM tags; DELETE FROM entries;');
      for (const it of items) this.upsertIn(db, it.meta, it.mtimeMs);
    });
    // The texts are rebuilt from the folders too (a load in progress is superseded).
    this.fullTextLoaded = false;
    this.fullTextLoad = undefined;
    await this.warmFullText({ signal });
    return { count: items.length, errors };
  }

  /**
   * Brings a loaded index up to date with the folders: another process (a second window, the
   * CLI) may have written entries after this file was saved.
   */
  async reconcile(signal?: AbortSignal): Promise<{ updated: number; removed: number }> {
    const byKey = storagePaths(this.storageRoot).byKey;
    const known = new Map<string, number | null>();
    for (const r of this.rows('SELECT folder, meta_mtime FROM entries')) known.set(r.folder as string, r.meta_mtime as number | null);
    const folders = await listKeyFolders(byKey);
    const changed: { meta: Metadata; mtimeMs: number }[] = [];
    const seen = new Set<string>();
    await forEachLimit(folders, 64, signal, async (folder) => {
      const st = await fsp.stat(path.join(byKey, folder, METADATA_FILE)).catch(() => undefined);
      if (!st) return;
      seen.add(folder);
      if (known.get(folder) === st.mtimeMs) return;
      const r = await readKeyFolder(byKey, folder);
      if ('meta' in r) changed.push(r);
      else seen.delete(folder);
    });
    const gone = [...known.keys()].filter((f) => !seen.has(f));
    if (changed.length || gone.length) {
      this.transaction((db) => {
        for (const it of changed) this.upsertIn(db, it.meta, it.mtimeMs);
        for (const folder of gone) {
          const row = this.rows('SELECT id, key FROM entries WHERE folder = ?', [folder])[0];
          if (row) this.deleteIn(db, row.key as string, row.id as number);
        }
      });
    }
    return { updated: changed.length, removed: gone.length };
  }

  /**
   * Jobs are read from storage/jobs/ (written by the writer), not mirrored in the database: the
   * files are the truth, so there is nothing to keep in step or to rebuild.
   */
  getJob(id: string): JobRecord | undefined {
    try {
      return parseJobState(JSON.parse(readFileSync(jobStatePath(this.storageRoot, id), 'utf8')));
    } catch {
      return undefined;
    }
  }

  listJobs(): JobRecord[] {
    const out: JobRecord[] = [];
    for (const n of this.jobFileNames()) {
      const j = this.getJob(n.slice(0, -'.json'.length));
      if (j) out.push(j);
    }
    return out.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  private jobFileNames(): string[] {
    try {
      return readdirSync(storagePaths(this.storageRoot).jobs).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
    } catch {
      return [];
    }
  }

  stats(): IndexStats {
    const count = (sql: string) => Number(this.scalar(sql) ?? 0);
    const group = (col: string) => {
      const out: Record<string, number> = {};
      for (const r of this.rows(`SELECT ${col} AS s, count(*) AS n FROM entries GROUP BY ${col}`)) out[r.s as string] = r.n as number;
      return out;
    };
    return {
      entries: count('SELECT count(*) FROM entries'),
      withPdf: count('SELECT count(*) FROM entries WHERE has_pdf = 1'),
      withDoi: count('SELECT count(*) FROM entries WHERE doi IS NOT NULL'),
      byDoiStatus: group('doi_status'),
      byPdfStatus: group('pdf_status'),
      jobs: this.jobFileNames().length,
    };
  }

  /** The database file's bytes. Frees prepared statements (sql.js), so call it between operations only. */
  exportBytes(): Uint8Array {
    return this.live().export();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

async function forEachLimit<T>(items: T[], limit: number, signal: AbortSignal | undefined, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      await fn(items[next++]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
