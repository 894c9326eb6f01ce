import { parseArgs, USAGE, type CliOptions } from './args';
import { errorMessage } from '../core/errors';
import { fatalLine, type CliIO } from './io';
import { SCHOLAR_VERSION } from '../core/version';
import { runCheck, runFetch, runIndex, runResolve, runSearch } from './commands';
import { runAttach, runImport } from './pdfs';
import { runAdd, runUpdate } from './addUpdate';
import { runUpgrade } from './upgrade';

export type { CliIO } from './io';

type Runner = (opts: CliOptions, io: CliIO) => Promise<number>;

const runners: Record<string, Runner> = {
  resolve: runResolve,
  fetch: runFetch,
  check: runCheck,
  index: runIndex,
  search: runSearch,
  attach: runAttach,
  import: runImport,
  add: runAdd,
  update: runUpdate,
  upgrade: runUpgrade,
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
    io.stderr.write(fatalLine(err));
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
  let settled = false;
  // A promise that can never settle would otherwise end the process silently with code 0.
  process.on('beforeExit', () => {
    if (settled) return;
    settled = true;
    process.stderr.write('scholar: internal error: the run stopped before it finished\n');
    process.exitCode = 2;
  });
  runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    signal: controller.signal,
  }).then(
    (code) => {
      settled = true;
      process.exitCode = code;
    },
    (err) => {
      settled = true;
      process.stderr.write(`scholar: ${errorMessage(err)}\n`);
      process.exitCode = 2;
    },
  );
}
