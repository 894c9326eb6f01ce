/** What the matcher needs to know of a .bib entry, read once from its fields. */
import type { BibEntry, BibFile } from '../bib/parse';
import { resolvedFields } from '../bib/parse';
import { latexToUnicode, parseAuthors } from '../bib/latex';
import type { EntryFacts } from './score';
import { citedForm, citedServer, citedVersion } from './version';

function text(fields: Map<string, { value: string }>, name: string): string | undefined {
  const f = fields.get(name);
  if (!f) return undefined;
  const t = latexToUnicode(f.value).replace(/\s+/g, ' ').trim();
  return t || undefined;
}

export function entryFacts(file: BibFile, entry: BibEntry): EntryFacts {
  const fields = resolvedFields(file, entry);
  const authorsValue = fields.get('author')?.value ?? fields.get('editor')?.value ?? '';
  const authors = authorsValue ? parseAuthors(authorsValue) : { persons: [], others: false };
  const yearText = text(fields, 'year') ?? text(fields, 'date');
  const yearMatch = yearText ? /\b(1[5-9]\d\d|20\d\d)\b/.exec(yearText) : null;
  const venue = text(fields, 'journal') ?? text(fields, 'journaltitle') ?? text(fields, 'booktitle') ?? text(fields, 'howpublished') ?? text(fields, 'publisher');
  const citation = { type: entry.type, get: (n: string) => text(fields, n) ?? (n === 'url' ? fields.get('url')?.value : undefined) };
  const cited = citedVersion(citation);
  return {
    key: entry.key,
    type: entry.type,
    title: text(fields, 'title') ?? '',
    authors: authors.persons.map((p) => (p.von ? `${p.von} ${p.last}` : p.last)).filter(Boolean),
    hasOthers: authors.others,
    year: yearMatch ? Number(yearMatch[1]) : undefined,
    venue,
    volume: text(fields, 'volume'),
    pages: text(fields, 'pages'),
    isPreprint: cited === 'preprint',
    cited,
    preprintServer: cited === 'preprint' ? citedServer(citation) : undefined,
    form: citedForm(citation),
  };
}
