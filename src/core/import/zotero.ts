/**
 * Reads a Zotero data directory without touching it. Zotero keeps `zotero.sqlite` open with an
 * exclusive lock while it runs, so we copy the file to a temp folder, read the copy with sql.js
 * (in memory) and delete the copy; the PDFs are only ever read, under `storage/<8-char key>/`.
 * Tables and columns are those of Zotero's published schema (resource/schema/userdata.sql).
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SqlValue } from 'sql.js';
import { ScholarError } from '../errors';
import { loadSqlJs, LibraryIndex } from '../index/library';

export interface ZoteroAttachment {
  /** The attachment item's key: the name of its folder under storage/. */
  key: string;
  /** Absolute path of the file, when Zotero stores or links it in a way we can read. */
  file?: string;
  /** Why there is no readable file (e.g. a path relative to Zotero's base directory). */
  problem?: string;
}

export interface ZoteroItem {
  key: string;
  title?: string;
  doi?: string;
  year?: number;
  attachments: ZoteroAttachment[];
}

export interface ZoteroLibrary {
  dataDir: string;
  items: ZoteroItem[];
}

/** Zotero's link modes (Zotero.Attachments.LINK_MODE_*): 0 imported file, 1 imported URL, 2 linked file, 3 linked URL. */
const LINKED_FILE = 2;

function str(v: SqlValue | undefined): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : undefined;
}

/** DOIs of item types without a DOI field live in Extra as a `DOI: …` line (Zotero's own convention). */
function doiFromExtra(extra: string | undefined): string | undefined {
  return extra ? /^\s*DOI:\s*(10\.\S+)\s*$/im.exec(extra)?.[1] : undefined;
}

export async function readZoteroLibrary(dataDir: string, opts: { wasmPath?: string } = {}): Promise<ZoteroLibrary> {
  const dir = path.resolve(dataDir);
  const dbFile = path.join(dir, 'zotero.sqlite');
  if (!existsSync(dbFile)) throw new ScholarError('E_NOT_ZOTERO', `${dir} is not a Zotero data directory (no zotero.sqlite); Zotero shows its location under Settings → Advanced → Files and Folders`, { dir });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'scholar-zotero-'));
  let bytes: Buffer;
  try {
    const copy = path.join(tmp, 'zotero.sqlite');
    await copyFile(dbFile, copy);
    bytes = await readFile(copy);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const SQL = await loadSqlJs(opts.wasmPath ?? LibraryIndex.defaultWasmPath());
  let db;
  try {
    db = new SQL.Database(bytes);
    db.exec('SELECT count(*) FROM items');
  } catch (err) {
    db?.close();
    throw new ScholarError('E_BAD_ZOTERO_DB', `cannot read ${dbFile}: ${err instanceof Error ? err.message : String(err)}`, { dbFile }, { cause: err });
  }
  try {
    const rows = (sql: string): SqlValue[][] => db.exec(sql)[0]?.values ?? [];
    const trashed = 'SELECT itemID FROM deletedItems';
    // fieldsCombined is what itemData refers to; fields alone in databases that predate it.
    const fieldNames = "(SELECT fieldID, fieldName FROM fieldsCombined UNION SELECT fieldID, fieldName FROM fields)";
    const items = new Map<number, ZoteroItem & { extra?: string }>();
    for (const [id, key] of rows(`SELECT itemID, key FROM items WHERE itemID NOT IN (${trashed}) AND itemID NOT IN (SELECT itemID FROM itemAttachments) AND itemID NOT IN (SELECT itemID FROM itemNotes)`)) {
      items.set(Number(id), { key: String(key), attachments: [] });
    }
    for (const [id, field, value] of rows(`SELECT d.itemID, f.fieldName, v.value FROM itemData d JOIN ${fieldNames} f ON f.fieldID = d.fieldID JOIN itemDataValues v ON v.valueID = d.valueID WHERE f.fieldName IN ('title', 'date', 'DOI', 'extra')`)) {
      const it = items.get(Number(id));
      const v = str(value);
      if (!it || !v) continue;
      if (field === 'title') it.title = v;
      else if (field === 'DOI') it.doi = v;
      else if (field === 'extra') it.extra = v;
      else if (field === 'date') {
        // Zotero stores "2019-03-00 March 2019": a sortable part, then what the user typed.
        const y = /\b(\d{4})\b/.exec(v)?.[1];
        if (y && y !== '0000') it.year = Number(y);
      }
    }
    for (const [parent, key, linkMode, contentType, p] of rows(
      `SELECT a.parentItemID, i.key, a.linkMode, a.contentType, a.path FROM itemAttachments a JOIN items i ON i.itemID = a.itemID WHERE a.parentItemID IS NOT NULL AND a.itemID NOT IN (${trashed}) AND (a.contentType = 'application/pdf' OR lower(a.path) LIKE '%.pdf')`,
    )) {
      const it = items.get(Number(parent));
      if (!it) continue;
      const att: ZoteroAttachment = { key: String(key) };
      const rel = str(p) ?? '';
      if (rel.startsWith('storage:')) {
        // The file name is the part after "storage:"; the folder is the attachment's key.
        const name = rel.slice('storage:'.length);
        if (!name || name.includes('/') || name.includes('\\') || name === '..' || !/^[A-Z0-9]{8}$/.test(att.key)) att.problem = `unexpected storage path ${rel}`;
        else att.file = path.join(dir, 'storage', att.key, name);
      } else if (rel.startsWith('attachments:')) {
        att.problem = 'linked relative to Zotero’s base directory, which only Zotero’s preferences know';
      } else if (Number(linkMode) === LINKED_FILE && path.isAbsolute(rel)) {
        att.file = rel;
      } else {
        att.problem = contentType === 'application/pdf' && !rel ? 'no file (a link to a web page)' : `unsupported attachment path ${rel || '(none)'}`;
      }
      it.attachments.push(att);
    }
    const out: ZoteroItem[] = [];
    for (const it of items.values()) {
      it.doi ??= doiFromExtra(it.extra);
      delete it.extra;
      out.push(it);
    }
    return { dataDir: dir, items: out };
  } finally {
    db.close();
  }
}
