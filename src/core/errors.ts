/**
 * Every error that leaves the core carries a code declared in ERROR_CODES (below); the UI renders
 * the code's label and text, and `message` carries the particulars (which file, which URL) for the log.
 */
export class ScholarError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly details?: Record<string, unknown>;
  constructor(code: C, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScholarError';
    this.code = code;
    this.details = details;
  }
}

export function isAbortError(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR' || (err as { code?: string }).code === 'E_ABORTED')
  );
}

export function errorCode(err: unknown): string {
  if (err instanceof ScholarError) return err.code;
  if (isAbortError(err)) return 'E_ABORTED';
  const c = (err as { code?: unknown })?.code;
  return typeof c === 'string' ? c : 'E_INTERNAL';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One declared code: whether a retry can ever help, a short label (headings, buttons) and the sentence a user reads. */
export interface ErrorInfo {
  /** True when trying again cannot help (the input or the answer is wrong, not the moment). */
  readonly permanent: boolean;
  /** For codes whose permanence depends on the HTTP status: the statuses that make it permanent. */
  readonly permanentStatuses?: readonly number[];
  /** A few words for a heading, in sentence case. */
  readonly label: string;
  /** The sentence a user reads, in lower case so that it can follow "Scholar: " or a service name. */
  readonly text: string;
}

/**
 * The error registry: every code that Scholar throws, records or shows is declared here once
 * (test/unit/errors-registry.test.ts scans src/ for codes that are not). Core throws codes; the
 * host, the dashboard and the CLI render `label` and `text` from here, and `isPermanent` reads it.
 */
export const ERROR_CODES = {
  // The network (net/http.ts, net/gate.ts, net/body.ts).
  E_NETWORK: { permanent: false, label: 'Connection failed', text: 'the connection failed' },
  E_TIMEOUT: { permanent: false, label: 'No answer in time', text: 'the service took too long to answer' },
  E_CIRCUIT_OPEN: { permanent: false, label: 'Service paused', text: 'the service failed repeatedly; Scholar pauses it for a while' },
  E_UNREACHABLE: { permanent: false, label: 'Service unreachable', text: 'the service cannot be reached (offline, or behind a proxy?)' },
  E_TLS: { permanent: false, label: 'Certificate not trusted', text: "the service's TLS certificate is not trusted (a TLS-inspecting firewall needs its certificate in the system store)" },
  E_PROXY: { permanent: false, label: 'Proxy failed', text: 'the proxy cannot be reached or refused the connection' },
  E_PROXY_AUTH: { permanent: false, label: 'Proxy needs a login', text: 'the proxy asks for credentials (HTTP 407)' },
  E_QUOTA_EXHAUSTED: { permanent: false, label: 'Daily allowance used up', text: "the service's usage allowance is used up for today" },
  E_KEY_REQUIRED: { permanent: false, label: 'API key needed', text: 'the service refused the request for lack of a valid API key' },
  E_HTTP_STATUS: { permanent: false, permanentStatuses: [400, 401, 403, 404, 410, 422], label: 'Refused by the service', text: 'the service answered with an error' },
  E_BAD_JSON: { permanent: false, label: 'Unreadable answer', text: 'the service sent an answer Scholar cannot read' },
  E_BAD_ENCODING: { permanent: false, label: 'Unreadable answer', text: 'the answer was compressed in a way Scholar cannot read, or arrived damaged' },
  E_TOO_LARGE: { permanent: true, label: 'Too large', text: 'the file is larger than the size limit' },
  E_DECODED_TOO_LARGE: { permanent: true, label: 'Too large', text: 'the file grows beyond the size limit once unpacked' },
  E_REDIRECT_SCHEME: { permanent: true, label: 'Bad redirect', text: 'the link redirects to an address that is not a web address' },
  E_REDIRECT_LOOP: { permanent: true, label: 'Too many redirects', text: 'the link redirects too many times or in a loop' },
  E_CLOSED: { permanent: false, label: 'Stopped', text: 'the connection was closed because Scholar is shutting down' },
  E_ABORTED: { permanent: false, label: 'Cancelled', text: 'the work was cancelled' },
  E_NOT_HTML: { permanent: false, label: 'Not a web page', text: 'the landing page is not a web page' },
  E_NO_EMAIL: { permanent: true, label: 'Email address needed', text: 'Unpaywall is asked only with a contact email address (set scholar.email)' },
  // PDFs.
  E_NOT_PDF: { permanent: true, label: 'Not a PDF', text: 'the file is not a PDF (often a web page served instead)' },
  E_PDF_TRUNCATED: { permanent: true, label: 'Incomplete PDF', text: 'the PDF is incomplete' },
  E_PDF_TEXT: { permanent: false, label: 'Unreadable PDF text', text: 'the text of the PDF could not be read (it is still stored)' },
  E_FULLTEXT_STALE: { permanent: false, label: 'PDF replaced', text: 'the PDF was replaced while its text was read; it is read again next time' },
  E_PDF_MISMATCH: { permanent: true, label: 'PDF of another work', text: 'the PDF names neither the DOI nor the title of the entry' },
  E_NO_PDF: { permanent: true, label: 'No open-access PDF', text: 'no open-access PDF was found' },
  E_PDF_SIZE: { permanent: false, label: 'Download incomplete', text: 'the downloaded file does not have the expected size' },
  E_PDF_CHANGED: { permanent: false, label: 'File changed', text: 'the file changed while it was being copied' },
  // Resolving DOIs.
  E_NO_DOI: { permanent: true, label: 'No DOI', text: 'the entry has no DOI, or its DOI needs review first' },
  E_DOI_WRONG: { permanent: true, label: 'DOI needs review', text: "the entry's DOI does not exist or names another work; review it first" },
  E_RESOLVE_FAILED: { permanent: false, label: 'Lookup failed', text: 'the DOI could not be looked up' },
  E_NO_TITLE: { permanent: true, label: 'Record without title', text: 'the registry record has no title' },
  E_RESOLVER: { permanent: false, label: 'PDF resolver failed', text: 'a custom PDF resolver failed' },
  E_SKIPPED: { permanent: true, label: 'Skipped', text: 'the entry opts out of Scholar (scholar = {skip})' },
  // The library folder and index.
  E_PATH_ESCAPE: { permanent: true, label: 'Outside the library', text: 'the path leads outside the library folder' },
  E_STORAGE_OUTSIDE: { permanent: true, label: 'Library folder outside', text: 'the library folder must be inside the workspace folder' },
  E_STORAGE_WRITE: { permanent: false, label: 'Cannot save', text: 'a file in the library folder could not be written' },
  E_STORAGE_CROSS_DEVICE: { permanent: true, label: 'Cannot save', text: 'the library folder spans two disks, so a file cannot be moved into place' },
  E_WRITER_CLOSED: { permanent: false, label: 'Stopped', text: 'the library was closed while the work was running' },
  E_NO_INDEX: { permanent: false, label: 'No search index', text: 'the library has no search index open' },
  E_BAD_METADATA: { permanent: true, label: 'Damaged entry file', text: "an entry's metadata.json in the library folder cannot be read" },
  E_KEY_COLLISION: { permanent: true, label: 'Folder in use', text: 'the library folder for this key holds another entry' },
  E_BAD_KEY: { permanent: true, label: 'Bad citation key', text: 'the citation key cannot name a folder' },
  E_BAD_JOB_ID: { permanent: true, label: 'Bad job', text: 'the saved job has an invalid name' },
  E_BAD_JOB_STATE: { permanent: true, label: 'Damaged job file', text: 'a saved job could not be read' },
  E_LOCKED: { permanent: false, label: 'Busy', text: 'another Scholar window or process is working on this entry; try again in a moment' },
  E_LOCK_IO: { permanent: false, label: 'Cannot lock', text: 'Scholar could not mark the entry as in use' },
  E_LOCK_TIMEOUT: { permanent: false, label: 'Busy', text: 'another Scholar window or process kept the entry busy too long' },
  E_INDEX_WASM: { permanent: true, label: 'Search index failed', text: 'the search index could not start (its engine is missing)' },
  E_INDEX_CLOSED: { permanent: false, label: 'Stopped', text: 'the search index was closed' },
  E_BAD_QUERY: { permanent: true, label: 'Bad search', text: 'the search filter is not written the way Scholar understands' },
  // .bib and .tex files.
  E_BIB_CHANGED: { permanent: false, label: '.bib changed', text: 'the .bib file changed since Scholar read it; run again' },
  E_BIB_READ: { permanent: true, label: 'Cannot read .bib', text: 'the .bib file cannot be read' },
  E_PROJECT_ROOT: { permanent: true, label: 'Folder not found', text: 'the project folder does not exist' },
  E_EDIT_OVERLAP: { permanent: true, label: 'Edit failed', text: 'two changes to the .bib file overlap' },
  E_EDIT_UNBALANCED: { permanent: true, label: 'Edit failed', text: 'the new value has unbalanced braces' },
  E_BIB_SYNTAX: { permanent: true, label: '.bib syntax', text: 'the .bib entry is not written correctly' },
  E_BIB_UNTERMINATED: { permanent: true, label: '.bib syntax', text: 'a brace or quote in the .bib file is never closed' },
  E_BIB_EOF: { permanent: true, label: '.bib syntax', text: 'the .bib file ends in the middle of an entry' },
  E_BIB_DUP_KEY: { permanent: true, label: 'Duplicate key', text: 'the same citation key is defined twice' },
  E_BIB_TOO_LONG: { permanent: true, label: '.bib syntax', text: 'a value is far too long (a runaway @string?)' },
  // Add, Upgrade, Attach and Import.
  E_KEY_PATTERN: { permanent: true, label: 'Bad key pattern', text: 'the citation key pattern (scholar.add.keyPattern) is not written correctly' },
  E_UPGRADE_TYPE: { permanent: true, label: 'Cannot upgrade', text: 'this kind of work cannot be written as a BibTeX entry automatically' },
  E_UPGRADE_EDIT: { permanent: true, label: 'Cannot upgrade', text: 'the entry could not be rewritten' },
  E_MERGE_EDIT: { permanent: true, label: 'Cannot merge', text: 'the two entries could not be merged' },
  E_MERGE_SAME_KEY: { permanent: true, label: 'Cannot merge', text: 'an entry cannot be merged with itself' },
  E_MERGE_NO_ENTRY: { permanent: true, label: 'Cannot merge', text: 'one of the two entries is no longer in its .bib file' },
  E_NOT_ZOTERO: { permanent: true, label: 'Not a Zotero folder', text: 'the folder is not a Zotero data directory' },
  E_BAD_ZOTERO_DB: { permanent: true, label: 'Cannot read Zotero', text: "Zotero's database cannot be read" },
  E_NO_PROXY: { permanent: true, label: 'No proxy set', text: 'no institutional proxy is set (scholar.institutionalProxy)' },
  // Anywhere.
  E_USAGE: { permanent: true, label: 'Wrong use', text: 'the command was not given what it needs' },
  E_NOT_FOUND: { permanent: true, label: 'Not found', text: 'the file, folder or entry does not exist' },
  E_CONFIG: { permanent: true, label: 'Bad setting', text: 'a setting has a value Scholar cannot use' },
  E_NO_FOLDER: { permanent: true, label: 'No workspace folder', text: 'the entry is in no workspace folder' },
  E_INTERNAL: { permanent: false, label: 'Unexpected error', text: 'something unexpected went wrong (the log has the details)' },
} as const satisfies Record<string, ErrorInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** The registry entry of a code; undefined codes (a Node `ENOENT` that slipped through) read as E_INTERNAL. */
export function errorInfo(code: string): ErrorInfo {
  return isErrorCode(code) ? ERROR_CODES[code] : ERROR_CODES.E_INTERNAL;
}

/** Whether a retry can help; E_HTTP_STATUS depends on the status (a 404 stays a 404, a 503 passes). */
export function isPermanent(code: string, status?: number): boolean {
  const info = errorInfo(code);
  if (info.permanentStatuses) return status !== undefined && info.permanentStatuses.includes(status);
  return isErrorCode(code) && info.permanent;
}

/** A short human label for a code (dashboard headings, CLI summaries); the code itself goes in a tooltip or brackets. */
export function errorLabel(code: string): string {
  return errorInfo(code).label;
}

/** The sentence a user reads for a code. */
export function errorText(code: string): string {
  return errorInfo(code).text;
}

/** Codes after which Scholar stops asking that service for the rest of the job (see net/http.ts). */
export const SERVICE_DOWN_CODES: readonly ErrorCode[] = ['E_UNREACHABLE', 'E_TLS', 'E_PROXY', 'E_PROXY_AUTH', 'E_QUOTA_EXHAUSTED', 'E_KEY_REQUIRED'];

export function isServiceDown(err: unknown): boolean {
  return err instanceof ScholarError && (SERVICE_DOWN_CODES as readonly string[]).includes(err.code);
}

/**
 * Runs one request to a service; a failure (other than a cancel) is recorded in `errors` and
 * answered with undefined, so that the caller goes on with the other sources and can tell a failed
 * lookup from a negative answer.
 */
export async function tryService<T>(service: string, errors: { service: string; code: string; message: string }[], fn: () => Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (isAbortError(err) || signal?.aborted) throw err;
    errors.push({ service, code: errorCode(err), message: errorMessage(err) });
    return undefined;
  }
}
