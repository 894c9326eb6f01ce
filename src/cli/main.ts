import { parseArgs, USAGE, type CliOptions } from './args';
import { ScholarError, errorCode, errorMessage } from '../core/errors';
import { SCHOLAR_VERSION } from '../core/version';

export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

type Runner = (opts: CliOptions, io: CliIO) => Promise<number>;

const notYet =
  (what: string): Runner =>
  async (_opts, io) => {
    io.stderr.write(`scholar: ${what} is not available yet in this version\n`);
    return 2;
  };

const runners: Record<string, Runner> = {
  resolve: notYet('resolve'),
  fetch: notYet('fetch'),
  check: notYet('check'),
  index: notYet('index rebuild'),
  search: notYet('search'),
};

/** Runs the CLI and returns its exit code: 0 success, 1 problems found / some entries failed, 2 usage or fatal. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    io.stderr.write(`scholar: ${errorMessage(err)}\nTry 'scholar --help'.\n`);
    return 2;
  }
  if (opts.command === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (opts.command === 'version') {
    io.stdout.write(`${SCHOLAR_VERSION}\n`);
    return 0;
  }
  try {
    return await runners[opts.command](opts, io);
  } catch (err) {
    const code = errorCode(err);
    io.stderr.write(`scholar: ${errorMessage(err)}${err instanceof ScholarError ? ` (${code})` : ''}\n`);
    if (io.env.SCHOLAR_DEBUG && err instanceof Error) io.stderr.write(`${err.stack}\n`);
    return 2;
  }
}

if (require.main === module) {
  const controller = new AbortController();
  let interrupted = 0;
  const onSignal = () => {
    interrupted++;
    if (interrupted > 1) process.exit(130);
    process.stderr.write('\nscholar: cancelling… (press Ctrl+C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    signal: controller.signal,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`scholar: ${errorMessage(err)}\n`);
      process.exitCode = 2;
    },
  );
}
