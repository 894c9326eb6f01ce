import { ScholarError } from '../core/errors';

export const SERVICE_NAMES = ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv', 'doi'] as const;
export type EndpointName = (typeof SERVICE_NAMES)[number];

export interface CliOptions {
  command: 'resolve' | 'fetch' | 'check' | 'index' | 'search' | 'upgrade' | 'help' | 'version';
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
}

export const USAGE = `Usage: scholar <command> [options]

Commands:
  resolve <file.bib|folder>   find the DOI of every entry that lacks one and write confident ones back
  fetch <file.bib|folder>     fetch open-access PDFs into <storage>/by_key/<KEY>/paper.pdf
  upgrade <file.bib>          cite the published version of preprints, where the evidence is strong
  check [paths]               report parse errors, duplicates, undefined citations, malformed DOIs
  index rebuild               rebuild the library index from the <storage>/by_key folders
  search <query>              search the library (free text; filters author: year: tag: has:pdf status:)

Options:
  --storage DIR               storage folder (default ./storage)
  --endpoint NAME=URL         replace a service's origin (repeatable); NAME is one of
                              ${SERVICE_NAMES.join(', ')}
  --mailto EMAIL              contact email for the APIs' polite pools
  --json                      machine-readable summary on stdout
  --dry-run                   change nothing; resolve and upgrade print the .bib changes as a unified diff
  --fix-existing              resolve: also replace wrong DOIs (unknown, or naming another work)
                              with the confident replacement found; without it they are only reported
  --no-check-existing         resolve: do not check the DOIs entries already carry (checked by default)
  --quiet                     no progress output
  --help                      show this help
  --version                   print the version

Exit codes: 0 success; 1 problems found (check) or some entries failed; 2 usage or fatal error.
`;

const COMMANDS = new Set(['resolve', 'fetch', 'check', 'index', 'search', 'upgrade', 'help']);

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
  };
  let command: string | undefined;
  const usage = (msg: string) => new ScholarError('E_USAGE', msg);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw usage(`${flag} needs a value`);
      return v;
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
      case '--storage':
        opts.storage = value();
        break;
      case '--mailto': {
        const v = value();
        if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) throw usage(`--mailto: not an email address: ${v}`);
        opts.mailto = v;
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
        if (arg.startsWith('-') && arg !== '-') throw usage(`unknown option ${arg}`);
        if (command === undefined) {
          if (!COMMANDS.has(arg)) throw usage(`unknown command ${arg}`);
          command = arg;
        } else opts.positionals.push(arg);
    }
  }
  opts.command = (command ?? 'help') as CliOptions['command'];
  switch (opts.command) {
    case 'resolve':
    case 'fetch':
      if (opts.positionals.length !== 1) throw usage(`${opts.command} takes one .bib file or folder`);
      break;
    case 'upgrade':
      if (opts.positionals.length !== 1 || !/\.bib$/i.test(opts.positionals[0])) throw usage('upgrade takes one .bib file');
      break;
    case 'index':
      if (opts.positionals.length !== 1 || opts.positionals[0] !== 'rebuild') throw usage('index takes the subcommand rebuild');
      break;
    case 'search':
      if (opts.positionals.length === 0) throw usage('search needs a query');
      break;
  }
  return opts;
}
