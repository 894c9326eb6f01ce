import { parseArgs as parseArgv } from 'node:util';
import { ScholarError } from '../core/errors';
import { parseProxyUrl } from '../core/net/network';
import { API_SERVICES as SERVICE_NAMES, SERVICE_NAMES as LIMIT_NAMES, type ApiService as EndpointName } from '../core/services';
import { parseShard, type Shard } from '../core/jobs/shard';
import { FALLBACK_RULES, type FallbackRule } from '../core/resolve/plausible';

/** What --limit accepts: the services of the `scholar.limits.*` settings, with the same meaning. */
export type LimitName = (typeof LIMIT_NAMES)[number];

export interface CliLimit {
  /** Requests per second (may be below 1, e.g. 0.5). */
  requestsPerSecond: number;
  concurrency?: number;
}

export interface CliOptions {
  command: 'resolve' | 'fetch' | 'check' | 'index' | 'search' | 'attach' | 'import' | 'add' | 'update' | 'upgrade' | 'help' | 'version';
  positionals: string[];
  storage: string;
  endpoints: Partial<Record<EndpointName, string>>;
  mailto?: string;
  json: boolean;
  dryRun: boolean;
  all: boolean;
  /** resolve: write confident replacements of wrong DOIs. */
  fixExisting?: boolean;
  /** resolve: skip checking the DOIs entries already carry. */
  noCheckExisting?: boolean;
  quiet: boolean;
  /** attach/import: the .bib file (or folder) whose entries are meant (default: the current folder's project). */
  bib?: string;
  /** attach: keep a PDF that names neither DOI nor title, and replace a stored one. */
  force: boolean;
  /** A storage folder this run creates gets no .gitignore. */
  noGitignore: boolean;
  /** --proxy: a URL, or null for `none` (ignore the environment); undefined = from the environment. */
  proxy?: string | null;
  limits: Partial<Record<LimitName, CliLimit>>;
  /** add: the .bib to add to. */
  to?: string;
  /** add: citation key pattern (default [auth:lower][year][shorttitle]). */
  keyPattern?: string;
  /** add: fetch the new entries' PDFs. */
  fetch?: boolean;
  /** update: comma-separated field names. */
  fields?: string;
  /** resolve, fetch: only this shard of the entries (`--shard I/N`). */
  shard?: Shard;
  /** resolve, fetch: which entries the search fallbacks after Crossref are asked for (default plausible). */
  fallbacks?: FallbackRule;
  /** upgrade: merge preprint entries with the published entries of the same work instead of upgrading. */
  mergeDuplicates?: boolean;
  /** upgrade --merge-duplicates: keys to keep (default: the key cited more often). */
  keep?: string[];
  /** upgrade --merge-duplicates: keep the removed key as a BibLaTeX alias (ids) instead of rewriting \cite's. */
  alias?: boolean;
}

export const USAGE = `Usage: scholar <command> [options]

Commands:
  resolve <file.bib|folder>   find the DOI of every entry that lacks one and write confident ones back
  fetch <file.bib|folder>     fetch open-access PDFs into <storage>/by_key/<KEY>/paper.pdf
  upgrade <file.bib>          cite the published version of preprints, where the evidence is strong
  check [paths]               report parse errors, duplicates, undefined citations, malformed DOIs
  index rebuild               rebuild the library index from the <storage>/by_key folders
  index fulltext              extract the text of stored PDFs that have none yet (for text: queries)
  search <query>              search the library (free text; filters author: year: tag: has:pdf status:;
                              text:word and text:"a phrase" search the PDFs' full text)
  attach <key> <file.pdf>     copy a PDF you have into <storage>/by_key/<KEY>/ (checked: it must name the
                              entry's DOI or title; --force keeps it anyway, as verified "manual")
  import zotero <dir>         copy the PDFs of a Zotero data directory (read-only) to the entries they match
  import folder <dir>         the same for a folder of PDFs, matched by the DOI or title in their text
  add <id>… --to FILE.bib     add entries by DOI, arXiv id or publisher URL (duplicates refused)
  update <file.bib>           propose corrections from each entry's DOI record, and write them

Options:
  --storage DIR               storage folder (default ./storage)
  --endpoint NAME=URL         replace a service's origin (repeatable); NAME is one of
                              ${SERVICE_NAMES.join(', ')}
  --mailto EMAIL              contact email for the APIs' polite pools
  --proxy URL|none            HTTP(S) proxy for every request (default: HTTPS_PROXY, HTTP_PROXY and
                              NO_PROXY from the environment, upper or lower case); none: connect directly
  --limit SERVICE=RATE[/CONCURRENCY]
                              override a service's rate (requests per second) and optionally its
                              concurrency, e.g. crossref=20/5 for Crossref Plus (repeatable); SERVICE is
                              one of ${LIMIT_NAMES.join(', ')} (pdf: per host)
  --json                      machine-readable summary on stdout
  --dry-run                   change nothing; resolve and upgrade print the .bib changes as a unified diff
  --fix-existing              resolve: also replace wrong DOIs (unknown, or naming another work)
                              with the confident replacement found; without it they are only reported
  --no-check-existing         resolve: do not check the DOIs entries already carry (checked by default)
  --bib FILE|DIR              attach, import: the .bib file or project folder (default: the current folder)
  --force                     attach: keep a PDF that names neither DOI nor title; replace a stored PDF
  --no-gitignore              do not put a .gitignore into a storage folder this run creates
  --quiet                     no progress output
  --to FILE.bib               add: the .bib file to add to (created if missing)
  --key-pattern P             add: citation key pattern (default [auth:lower][year][shorttitle])
  --fetch                     add: also fetch the new entries' open-access PDFs
  --fields LIST               update: only these fields (comma-separated, e.g. title,pages,year)
  --shard I/N                 resolve, fetch: only the entries of shard I of N (by folder-name hash), so
                              that N processes (e.g. a Slurm job array) share one storage folder
  --fallbacks plausible|all|fast
                              resolve, fetch: which entries the title searches after Crossref are sent
                              for: plausible (default: not web pages, software, theses, pre-2000 works
                              for Semantic Scholar …), all (every entry Crossref did not match: slower),
                              fast (never Semantic Scholar or arXiv)
  --merge-duplicates          upgrade: merge each preprint entry with the published entry of the same
                              work in the project (no request sent); the \\cite's of the removed key in
                              the folder's .tex files are rewritten to the kept key
  --keep KEY                  upgrade --merge-duplicates: keep this key (repeatable; default: the key
                              cited more often, the published one on a tie)
  --alias                     upgrade --merge-duplicates: rewrite no .tex file; the kept entry gets
                              ids = {removed key} (BibLaTeX/biber only: BibTeX ignores ids)
  --help                      show this help
  --version                   print the version

Environment: SCHOLAR_MAILTO (as --mailto), OPENALEX_API_KEY, S2_API_KEY, HTTPS_PROXY / HTTP_PROXY /
NO_PROXY, NODE_EXTRA_CA_CERTS (extra trusted certificates, e.g. a TLS-inspecting firewall's).

Exit codes: 0 success; 1 problems found (check) or some entries failed; 2 usage or fatal error.
`;

/** Flags with a value are strings; the rest are switches. Validation of each value is below. */
const STRING_OPTIONS = ['bib', 'to', 'key-pattern', 'fields', 'storage', 'mailto', 'proxy', 'limit', 'endpoint', 'shard', 'keep', 'fallbacks'] as const;
const BOOLEAN_OPTIONS = ['help', 'version', 'json', 'dry-run', 'all', 'fix-existing', 'no-check-existing', 'quiet', 'force', 'no-gitignore', 'fetch', 'merge-duplicates', 'alias'] as const;
const OPTIONS = {
  ...Object.fromEntries(STRING_OPTIONS.map((n) => [n, { type: 'string' as const }])),
  ...Object.fromEntries(BOOLEAN_OPTIONS.map((n) => [n, { type: 'boolean' as const }])),
  help: { type: 'boolean' as const, short: 'h' },
};

const COMMANDS = new Set(['resolve', 'fetch', 'check', 'index', 'search', 'attach', 'import', 'add', 'update', 'upgrade', 'help']);

/** Parses argv (without node and script). Throws ScholarError E_USAGE with a one-line reason. */
export function parseArgs(argv: string[]): CliOptions {
  const opts: CliOptions = {
    command: 'help',
    positionals: [],
    storage: 'storage',
    endpoints: {},
    json: false,
    dryRun: false,
    all: false,
    quiet: false,
    force: false,
    noGitignore: false,
    limits: {},
  };
  let command: string | undefined;
  const usage = (msg: string) => new ScholarError('E_USAGE', msg);
  // Not strict: unknown options and missing values come back as tokens, so that each gets the
  // message below, in the order the user wrote them.
  const { tokens } = parseArgv({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'option-terminator') throw usage('unknown option --');
    const arg = argv[t.index]!;
    if (t.kind === 'positional') {
      if (command === undefined) {
        if (!COMMANDS.has(arg)) throw usage(`unknown command ${arg}`);
        command = arg;
      } else opts.positionals.push(arg);
      continue;
    }
    // Short options group (-hx); only a lone -h is known.
    const flag = t.rawName.startsWith('--') ? t.rawName : arg === '-h' ? '-h' : arg;
    const value = (): string => {
      // A value that looks like the next option means the value was forgotten (`--bib --json`).
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) throw usage(`${flag} needs a value`);
      return t.value;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return { ...opts, command: 'help' };
      case '--version':
        return { ...opts, command: 'version' };
      case '--json':
        opts.json = true;
        break;
      case '--dry-run':
        opts.dryRun = true;
        break;
      case '--all':
        // Kept for scripts written before existing DOIs were checked by default.
        opts.all = true;
        break;
      case '--fix-existing':
        opts.fixExisting = true;
        break;
      case '--no-check-existing':
        opts.noCheckExisting = true;
        break;
      case '--quiet':
        opts.quiet = true;
        break;
      case '--force':
        opts.force = true;
        break;
      case '--no-gitignore':
        opts.noGitignore = true;
        break;
      case '--bib':
        opts.bib = value();
        break;
      case '--to':
        opts.to = value();
        break;
      case '--key-pattern':
        opts.keyPattern = value();
        break;
      case '--fetch':
        opts.fetch = true;
        break;
      case '--fields':
        opts.fields = value();
        break;
      case '--shard':
        opts.shard = parseShard(value());
        break;
      case '--fallbacks': {
        const v = value().trim().toLowerCase() as FallbackRule;
        if (!FALLBACK_RULES.includes(v)) throw usage(`--fallbacks expects one of ${FALLBACK_RULES.join(', ')}, got ${v}`);
        opts.fallbacks = v;
        break;
      }
      case '--merge-duplicates':
        opts.mergeDuplicates = true;
        break;
      case '--keep':
        opts.keep = [...(opts.keep ?? []), value()];
        break;
      case '--alias':
        opts.alias = true;
        break;
      case '--storage':
        opts.storage = value();
        break;
      case '--mailto': {
        const v = value();
        if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) throw usage(`--mailto: not an email address: ${v}`);
        opts.mailto = v;
        break;
      }
      case '--proxy': {
        const v = value();
        try {
          opts.proxy = v.trim().toLowerCase() === 'none' ? null : parseProxyUrl(v);
        } catch (err) {
          throw usage(`--proxy: ${(err as Error).message}`);
        }
        if (opts.proxy === undefined) throw usage('--proxy needs a URL or none');
        break;
      }
      case '--limit': {
        const v = value();
        const m = /^([A-Za-z]+)=(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(v);
        if (!m) throw usage(`--limit expects SERVICE=RATE[/CONCURRENCY] (e.g. crossref=20/5), got ${v}`);
        const name = m[1] as LimitName;
        if (!LIMIT_NAMES.includes(name)) throw usage(`--limit: unknown service ${m[1]} (one of ${LIMIT_NAMES.join(', ')})`);
        const rate = Number(m[2]);
        if (!(rate > 0)) throw usage(`--limit ${name}: the rate must be above 0 requests per second`);
        const conc = m[3] !== undefined ? Number(m[3]) : undefined;
        if (conc !== undefined && conc < 1) throw usage(`--limit ${name}: the concurrency must be at least 1`);
        opts.limits[name] = { requestsPerSecond: rate, ...(conc !== undefined ? { concurrency: conc } : {}) };
        break;
      }
      case '--endpoint': {
        const v = value();
        const eq = v.indexOf('=');
        if (eq < 1) throw usage(`--endpoint expects NAME=URL, got ${v}`);
        const name = v.slice(0, eq) as EndpointName;
        const url = v.slice(eq + 1);
        if (!SERVICE_NAMES.includes(name)) throw usage(`--endpoint: unknown service ${name} (one of ${SERVICE_NAMES.join(', ')})`);
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          throw usage(`--endpoint ${name}: not a URL: ${url}`);
        }
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usage(`--endpoint ${name}: only http and https URLs are allowed`);
        opts.endpoints[name] = url.replace(/\/+$/, '');
        break;
      }
      default:
        throw usage(`unknown option ${arg}`);
    }
  }
  opts.command = (command ?? 'help') as CliOptions['command'];
  if (opts.shard && opts.command !== 'resolve' && opts.command !== 'fetch') throw usage('--shard is for resolve and fetch');
  if (opts.fallbacks && opts.command !== 'resolve' && opts.command !== 'fetch') throw usage('--fallbacks is for resolve and fetch');
  switch (opts.command) {
    case 'resolve':
    case 'fetch':
      if (opts.positionals.length !== 1) throw usage(`${opts.command} takes one .bib file or folder`);
      break;
    case 'upgrade':
      if (opts.positionals.length !== 1 || !/\.bib$/i.test(opts.positionals[0])) throw usage('upgrade takes one .bib file');
      if ((opts.keep || opts.alias) && !opts.mergeDuplicates) throw usage('--keep and --alias go with --merge-duplicates');
      break;
    case 'index':
      if (opts.positionals.length !== 1 || (opts.positionals[0] !== 'rebuild' && opts.positionals[0] !== 'fulltext')) throw usage('index takes the subcommand rebuild or fulltext');
      break;
    case 'search':
      if (opts.positionals.length === 0) throw usage('search needs a query');
      break;
    case 'attach':
      if (opts.positionals.length !== 2) throw usage('attach takes a citation key and a PDF file');
      break;
    case 'import':
      if (opts.positionals.length !== 2 || !['zotero', 'folder'].includes(opts.positionals[0]!)) throw usage('import takes zotero <dir> or folder <dir>');
      break;
    case 'add':
      if (opts.positionals.length === 0) throw usage('add needs at least one DOI, arXiv id or URL');
      if (!opts.to) throw usage('add needs --to FILE.bib');
      break;
    case 'update':
      if (opts.positionals.length !== 1) throw usage('update takes one .bib file');
      break;
  }
  return opts;
}
