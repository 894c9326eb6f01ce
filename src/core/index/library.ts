/**
 * The library index: an in-memory sql.js database persisted as storage/library.sqlite.
 * It is a cache of by_key/*\/metadata.json — missing, corrupt or outdated, it is rebuilt.
 *
 * The FTS4 table is an external-content table over `entries` (title, authors, abstract, venue),
 * so no text is stored twice; its rows are deleted before the entries row they read from.
 *
 * sql.js rules this module keeps: `export()` closes and reopens the database, freeing every
 * prepared statement AND every function registered with create_function, so no statement
 * outlives a method call and functions are registered again after each export.
 * The build of sql.js has FTS3/FTS4 but not FTS5, hence FTS4 with a bm25 ranking computed in JS
 * from matchinfo().
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import { ScholarError } from '../errors';
import { isKeyFolderName, keyToFolderName } from '../storage/keys';
import { METADATA_FILE, storagePaths } from '../storage/layout';
import { validateMetadata, type Metadata } from '../storage/metadata';

export const INDEX_SCHEMA_VERSION = '1';

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

export interface JobRecord {
  id: string;
  status: string;
  updatedAt: string;
  [k: string]: unknown;
}

export type OpenedFrom = 'file' | 'rebuilt';

const sqlJsByPath = new Map<string, Promise<SqlJsStatic>>();

function loadSqlJs(wasmPath: string): Promise<SqlJsStatic> {
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
CREATE TABLE jobs(id TEXT PRIMARY KEY, status TEXT NOT NULL, updated_at TEXT NOT NULL, json TEXT NOT NULL);
CREATE VIRTUAL TABLE fts USING fts4(content="entries", title, authors, abstract, venue, tokenize=unicode61 "remove_diacritics=1");
`;

/** Column weights for ranking: a hit in the title counts more than one in the abstract. */
const FTS_WEIGHTS = [3, 2, 1, 1];

function norm(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().trim();
}

/** Okapi BM25 from FTS4 matchinfo(fts, 'pcnalx'). */
function bm25(blob: Uint8Array): number {
  if (!(blob instanceof Uint8Array) || blob.byteLength < 12) return 0;
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const u = (i: number) => dv.getUint32(i * 4, true);
  const p = u(0);
  const c = u(1);
  const n = u(2);
  const k1 = 1.2;
  const b = 0.75;
  let score = 0;
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < c; j++) {
      const avg = u(3 + j) || 1;
      const len = u(3 + c + j);
      const x = 3 + 2 * c + 3 * (i * c + j);
      const tf = u(x);
      const docsWithHit = u(x + 2);
      if (tf === 0) continue;
      const idf = Math.max(1e-6, Math.log((n - docsWithHit + 0.5) / (docsWithHit + 0.5)));
      score += (FTS_WEIGHTS[j] ?? 1) * idf * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * len) / avg)));
    }
  }
  return score;
}

function doiStatusOf(m: Metadata): string {
  return m.match?.outcome ?? (m.doi ? 'has_doi' : 'unresolved');
}

function authorsText(m: Metadata): string {
  return (m.authors ?? []).map((a) => (a.given ? `${a.given} ${a.family}` : a.family)).join('; ');
}

interface ParsedQuery {
  text: string[];
  where: string[];
  params: SqlValue[];
}

const TOKEN_RE = /(-?)([a-z]+):("[^"]*"|\S+)|"([^"]*)"|(\S+)/gi;

function ftsTerms(s: string): string[] {
  return norm(s).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Turns `smith "deep learning" year:2010..2015 -has:pdf tag:ml` into FTS text + SQL filters. */
export function parseQuery(q: string): ParsedQuery {
  const out: ParsedQuery = { text: [], where: [], params: [] };
  const add = (neg: boolean, sql: string, ...params: SqlValue[]) => {
    out.where.push(neg ? `NOT (${sql})` : sql);
    out.params.push(...params);
  };
  for (const m of q.matchAll(TOKEN_RE)) {
    const [, dash, field, rawValue, phrase, word] = m;
    if (phrase !== undefined) {
      const t = ftsTerms(phrase);
      if (t.length) out.text.push(`"${t.join(' ')}"`);
      continue;
    }
    if (word !== undefined) {
      // A bare word is a prefix search so results appear while typing.
      for (const t of ftsTerms(word)) out.text.push(`${t}*`);
      continue;
    }
    const neg = dash === '-';
    const f = field!.toLowerCase();
    const value = rawValue!.replace(/^"|"$/g, '');
    const v = norm(value);
    switch (f) {
      case 'author':
        add(neg, 'e.key IN (SELECT key FROM authors WHERE family_norm LIKE ? ESCAPE \'\\\')', `${v.replace(/[\\%_]/g, '\\$&')}%`);
        break;
      case 'year': {
        const r = /^(\d{1,4})?(?:(\.\.)(\d{1,4})?)?$/.exec(v);
        if (!r || (!r[1] && !r[3])) throw new ScholarError('E_BAD_QUERY', `year filter must look like 2010, 2010..2015, ..2015 or 2010..: ${value}`);
        if (!r[2]) add(neg, 'e.year = ?', Number(r[1]));
        else if (r[1] && r[3]) add(neg, 'e.year BETWEEN ? AND ?', Number(r[1]), Number(r[3]));
        else if (r[1]) add(neg, 'e.year >= ?', Number(r[1]));
        else add(neg, 'e.year <= ?', Number(r[3]));
        break;
      }
      case 'tag':
        add(neg, 'e.key IN (SELECT key FROM tags WHERE tag_norm = ?)', v);
        break;
      case 'has':
        if (v === 'pdf') add(neg, 'e.has_pdf = 1');
        else if (v === 'doi') add(neg, 'e.doi IS NOT NULL');
        else if (v === 'abstract') add(neg, "e.abstract <> ''");
        else throw new ScholarError('E_BAD_QUERY', `has: takes pdf, doi or abstract, not ${value}`);
        break;
      case 'status':
        add(neg, "(e.doi_status = ? OR e.pdf_status = ? OR (? = 'retracted' AND e.retracted = 1))", v, v, v);
        break;
      case 'type':
        add(neg, 'lower(e.type) = ?', v);
        break;
      case 'venue':
        add(neg, 'e.id IN (SELECT docid FROM fts WHERE fts MATCH ?)', ftsTerms(value).map((t) => `venue:${t}*`).join(' ') || '""');
        break;
      case 'doi':
        add(neg, 'e.doi = ?', value.toLowerCase());
        break;
      case 'key':
        add(neg, 'e.key = ?', value);
        break;
      default:
        // Not a filter we know (e.g. "re:action"): search it as text.
        for (const t of ftsTerms(m[0])) out.text.push(`${t}*`);
    }
  }
  return out;
}

export class LibraryIndex {
  private db: Database;
  private closed = false;
  /** How the index came to be: loaded from library.sqlite or rebuilt from folders. */
  openedFrom: OpenedFrom = 'file';
  rebuildReason?: string;

  private constructor(
    db: Database,
    readonly storageRoot: string,
  ) {
    this.db = db;
    this.registerFunctions();
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

  private registerFunctions(): void {
    this.db.create_function('scholar_rank', (blob: Uint8Array) => bm25(blob));
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
      db.run('INSERT INTO authors(key, pos, family, given, family_norm) VALUES (?, ?, ?, ?, ?)', [key, pos, a.family, a.given ?? null, norm(a.family)]);
    });
    for (const [kind, value] of Object.entries(meta.identifiers)) {
      if (typeof value === 'string') db.run('INSERT INTO identifiers(key, kind, value) VALUES (?, ?, ?)', [key, kind, value]);
    }
    for (const tag of new Set(meta.tags ?? [])) db.run('INSERT INTO tags(key, tag, tag_norm) VALUES (?, ?, ?)', [key, tag, norm(tag)]);
    db.run('INSERT INTO fts(docid, title, authors, abstract, venue) VALUES (?, ?, ?, ?, ?)', [
      id,
      meta.title ?? '',
      authorsText(meta),
      meta.abstract ?? '',
      meta.venue ?? '',
    ]);
  }

  private deleteIn(db: Database, key: string, id: number): void {
    db.run('DELETE FROM fts WHERE docid = ?', [id]);
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
    const row = this.rows('SELECT json, abstract FROM entries WHERE key = ?', [key])[0];
    if (!row) return undefined;
    const meta = JSON.parse(row.json as string) as Metadata;
    if (row.abstract) meta.abstract = row.abstract as string;
    return meta;
  }

  keys(): string[] {
    return this.rows('SELECT key FROM entries ORDER BY key').map((r) => r.key as string);
  }

  /**
   * Free text over title, authors, abstract and venue (bare words match as prefixes, "quoted
   * phrases" exactly) plus filters: author:NAME (family-name prefix), year:2010 | 2010..2015 |
   * ..2015 | 2010.., tag:T, has:pdf|doi|abstract, status:S (DOI outcome, PDF verification, or
   * `retracted`), type:T, venue:V, doi:D, key:K; `-` before a filter negates it.
   * Ranked by BM25 (title weighted highest) when there is free text, else newest first.
   */
  search(query: string, opts: SearchOptions = {}): SearchHit[] {
    const limit = Math.max(1, Math.min(opts.limit ?? 50, 10_000));
    const offset = Math.max(0, opts.offset ?? 0);
    const q = parseQuery(query);
    const cols = `e.key, e.folder, e.title, e.year, e.venue, e.type, e.doi, e.has_pdf, e.doi_status, e.pdf_status,
      (SELECT group_concat(family, '; ') FROM (SELECT family FROM authors a WHERE a.key = e.key ORDER BY pos)) AS authors`;
    const where = q.where.length ? q.where.join(' AND ') : '1';
    let sql: string;
    let params: SqlValue[];
    if (q.text.length) {
      sql = `SELECT ${cols}, scholar_rank(matchinfo(fts, 'pcnalx')) AS score
             FROM fts JOIN entries e ON e.id = fts.docid
             WHERE fts MATCH ? AND ${where}
             ORDER BY score DESC, e.year DESC, e.key LIMIT ? OFFSET ?`;
      params = [q.text.join(' '), ...q.params, limit, offset];
    } else {
      sql = `SELECT ${cols}, 0 AS score FROM entries e WHERE ${where}
             ORDER BY e.year IS NULL, e.year DESC, e.title, e.key LIMIT ? OFFSET ?`;
      params = [...q.params, limit, offset];
    }
    return this.rows(sql, params).map((r) => ({
      key: r.key as string,
      folder: r.folder as string,
      title: (r.title as string | null) ?? undefined,
      authors: (r.authors as string | null) ?? '',
      year: (r.year as number | null) ?? undefined,
      venue: (r.venue as string | null) ?? undefined,
      type: (r.type as string | null) ?? undefined,
      doi: (r.doi as string | null) ?? undefined,
      hasPdf: r.has_pdf === 1,
      doiStatus: r.doi_status as string,
      pdfStatus: r.pdf_status as string,
      score: r.score as number,
    }));
  }

  /** Replaces the whole index with what by_key/*\/metadata.json says. Invalid folders are reported, not fatal. */
  async rebuildFromFolders(signal?: AbortSignal): Promise<RebuildReport> {
    const byKey = storagePaths(this.storageRoot).byKey;
    const folders = await listFolders(byKey);
    const errors: RebuildReport['errors'] = [];
    const items: { meta: Metadata; mtimeMs: number }[] = [];
    await forEachLimit(folders, 64, signal, async (folder) => {
      const r = await readEntry(byKey, folder);
      if ('meta' in r) items.push(r);
      else if (r.error) errors.push({ folder, message: r.error });
    });
    signal?.throwIfAborted();
    items.sort((a, b) => (a.meta.key < b.meta.key ? -1 : a.meta.key > b.meta.key ? 1 : 0));
    this.transaction((db) => {
      db.exec('DELETE FROM fts; DELETE FROM authors; DELETE FROM identifiers; DELETE FROM tags; DELETE FROM entries;');
      for (const it of items) this.upsertIn(db, it.meta, it.mtimeMs);
    });
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
    const folders = await listFolders(byKey);
    const changed: { meta: Metadata; mtimeMs: number }[] = [];
    const seen = new Set<string>();
    await forEachLimit(folders, 64, signal, async (folder) => {
      const st = await fsp.stat(path.join(byKey, folder, METADATA_FILE)).catch(() => undefined);
      if (!st) return;
      seen.add(folder);
      if (known.get(folder) === st.mtimeMs) return;
      const r = await readEntry(byKey, folder);
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

  upsertJob(job: JobRecord): void {
    this.live().run('INSERT OR REPLACE INTO jobs(id, status, updated_at, json) VALUES (?, ?, ?, ?)', [job.id, job.status, job.updatedAt, JSON.stringify(job)]);
  }

  getJob(id: string): JobRecord | undefined {
    const json = this.scalar('SELECT json FROM jobs WHERE id = ?', [id]);
    return typeof json === 'string' ? (JSON.parse(json) as JobRecord) : undefined;
  }

  listJobs(): JobRecord[] {
    return this.rows('SELECT json FROM jobs ORDER BY updated_at DESC').map((r) => JSON.parse(r.json as string) as JobRecord);
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
      jobs: count('SELECT count(*) FROM jobs'),
    };
  }

  /** The database file's bytes. Frees prepared statements (sql.js), so call it between operations only. */
  exportBytes(): Uint8Array {
    const bytes = this.live().export();
    // export() reopened the database and dropped our SQL functions.
    this.registerFunctions();
    return bytes;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

async function listFolders(byKey: string): Promise<string[]> {
  let ents;
  try {
    ents = await fsp.readdir(byKey, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return ents.filter((e) => e.isDirectory() && isKeyFolderName(e.name)).map((e) => e.name);
}

async function readEntry(byKey: string, folder: string): Promise<{ meta: Metadata; mtimeMs: number } | { error?: string }> {
  const file = path.join(byKey, folder, METADATA_FILE);
  let text: string;
  let mtimeMs: number;
  try {
    const fh = await fsp.open(file, 'r');
    try {
      mtimeMs = (await fh.stat()).mtimeMs;
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    // A folder with only a download in progress has no metadata yet; that is not an error.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { error: (err as Error).message };
  }
  try {
    const meta = validateMetadata(JSON.parse(text), file);
    if (keyToFolderName(meta.key) !== folder) return { error: `key ${JSON.stringify(meta.key)} does not belong in folder ${folder}` };
    return { meta, mtimeMs };
  } catch (err) {
    return { error: (err as Error).message };
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
