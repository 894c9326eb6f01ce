// Builds a Zotero data directory (zotero.sqlite + storage/<KEY>/file.pdf) from Zotero's own
// published schema, test/fixtures/zotero/userdata.sql (source in the README beside it), with
// sql.js. Shared by the unit tests and the extension-host suite (not a test file itself).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SqlJsStatic } from 'sql.js';

export interface FixtureItem {
  /** Zotero item key: 8 characters of [A-Z0-9]. */
  key: string;
  type?: 'journalArticle' | 'book' | 'report';
  title?: string;
  /** As Zotero stores it: "2019-00-00 2019". */
  date?: string;
  doi?: string;
  extra?: string;
  trashed?: boolean;
  pdfs?: { key: string; from: string; name: string; linked?: boolean }[];
}

export function buildZoteroDataDir(dir: string, SQL: SqlJsStatic, schemaSql: string, items: FixtureItem[]): { dbFile: string } {
  fs.mkdirSync(path.join(dir, 'storage'), { recursive: true });
  const db = new SQL.Database();
  try {
    db.run(schemaSql);
    // Zotero fills these from its global schema at startup; a few rows are enough here.
    const types = ['journalArticle', 'book', 'report', 'attachment', 'note'];
    types.forEach((t, i) => db.run('INSERT INTO itemTypes (itemTypeID, typeName, templateItemTypeID, display) VALUES (?, ?, NULL, 1)', [i + 1, t]));
    types.forEach((t, i) => db.run('INSERT INTO itemTypesCombined (itemTypeID, typeName, display, custom) VALUES (?, ?, 1, 0)', [i + 1, t]));
    const fields: Record<string, number> = { title: 1, date: 6, extra: 22, DOI: 59 };
    for (const [name, id] of Object.entries(fields)) {
      db.run('INSERT INTO fields (fieldID, fieldName, fieldFormatID) VALUES (?, ?, NULL)', [id, name]);
      db.run('INSERT INTO fieldsCombined (fieldID, fieldName, label, fieldFormatID, custom) VALUES (?, ?, NULL, NULL, 0)', [id, name]);
    }
    db.run("INSERT INTO libraries (libraryID, type, editable, filesEditable, version, storageVersion, lastSync, archived) VALUES (1, 'user', 1, 1, 0, 0, 0, 0)");
    let itemID = 0;
    let valueID = 0;
    const values = new Map<string, number>();
    const setField = (id: number, field: string, value: string) => {
      let v = values.get(value);
      if (v === undefined) {
        v = ++valueID;
        values.set(value, v);
        db.run('INSERT INTO itemDataValues (valueID, value) VALUES (?, ?)', [v, value]);
      }
      db.run('INSERT INTO itemData (itemID, fieldID, valueID) VALUES (?, ?, ?)', [id, fields[field]!, v]);
    };
    for (const it of items) {
      const id = ++itemID;
      db.run('INSERT INTO items (itemID, itemTypeID, libraryID, key) VALUES (?, ?, 1, ?)', [id, types.indexOf(it.type ?? 'journalArticle') + 1, it.key]);
      if (it.title) setField(id, 'title', it.title);
      if (it.date) setField(id, 'date', it.date);
      if (it.doi) setField(id, 'DOI', it.doi);
      if (it.extra) setField(id, 'extra', it.extra);
      if (it.trashed) db.run('INSERT INTO deletedItems (itemID) VALUES (?)', [id]);
      for (const p of it.pdfs ?? []) {
        const aid = ++itemID;
        db.run('INSERT INTO items (itemID, itemTypeID, libraryID, key) VALUES (?, ?, 1, ?)', [aid, types.indexOf('attachment') + 1, p.key]);
        setField(aid, 'title', 'Full Text PDF');
        let stored: string;
        if (p.linked) {
          stored = path.join(dir, 'linked', p.name);
          fs.mkdirSync(path.dirname(stored), { recursive: true });
          fs.copyFileSync(p.from, stored);
        } else {
          const folder = path.join(dir, 'storage', p.key);
          fs.mkdirSync(folder, { recursive: true });
          fs.copyFileSync(p.from, path.join(folder, p.name));
          stored = `storage:${p.name}`;
        }
        db.run("INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path) VALUES (?, ?, ?, 'application/pdf', ?)", [aid, id, p.linked ? 2 : 0, stored]);
      }
    }
    const dbFile = path.join(dir, 'zotero.sqlite');
    fs.writeFileSync(dbFile, db.export());
    return { dbFile };
  } finally {
    db.close();
  }
}

/** sha256 of every file under dir, by relative path: "byte-identical afterwards" is this map being equal. */
export function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out[r] = createHash('sha256').update(fs.readFileSync(path.join(d, e.name))).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}
