// Running the CLI in-process in tests: captured output streams and the replay server's endpoints as flags.
import { Writable } from 'node:stream';

/** A writable stream that keeps what is written to it. */
export function sink(): { stream: Writable; text: () => string } {
  let text = '';
  return {
    stream: new Writable({
      write(c, _e, cb) {
        text += c.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

/** `--endpoint NAME=URL` for every API service the CLI knows, pointing at a replay server. */
export function endpointFlags(endpoints: Record<string, string> | object): string[] {
  const e = endpoints as Record<string, string>;
  return ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv', 'doi'].flatMap((n) => ['--endpoint', `${n}=${e[n]}`]);
}
