// Reading a response body under two caps: bytes on the wire and bytes after decompression.
// The second cap is what stops a compression bomb (a few KB of gzip that inflate to gigabytes).
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { ScholarError } from '../errors';

export interface BodyLimits {
  maxBytes: number;
  maxDecodedBytes: number;
}

function counter(limit: number, onCount: (n: number) => void, makeError: (n: number) => ScholarError): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      onCount(n);
      if (n > limit) cb(makeError(n));
      else cb(null, chunk);
    },
  });
}

function decoderFor(encoding: string | undefined): Transform | undefined {
  const e = (encoding ?? '').trim().toLowerCase();
  if (!e || e === 'identity') return undefined;
  if (e === 'gzip' || e === 'x-gzip') return zlib.createGunzip();
  if (e === 'deflate') return zlib.createInflate();
  if (e === 'br') return zlib.createBrotliDecompress();
  throw new ScholarError('E_BAD_ENCODING', `Unsupported content-encoding ${e}`, { encoding: e });
}

/**
 * Streams `body` through size counting and decoding into `sink`. The raw cap yields
 * E_TOO_LARGE, the decoded cap E_DECODED_TOO_LARGE; a broken compressed stream yields E_BAD_ENCODING.
 */
export async function streamBody(
  body: Readable,
  contentEncoding: string | undefined,
  limits: BodyLimits,
  sink: Writable | (Transform | Writable)[],
  opts: { signal?: AbortSignal; onRaw?: (n: number) => void; url?: string } = {},
): Promise<{ rawBytes: number; decodedBytes: number }> {
  let raw = 0;
  let decoded = 0;
  const stages: (Readable | Transform | Writable)[] = [
    body,
    counter(
      limits.maxBytes,
      (n) => {
        raw = n;
        opts.onRaw?.(n);
      },
      (n) => new ScholarError('E_TOO_LARGE', `Response exceeds ${limits.maxBytes} bytes`, { limit: limits.maxBytes, received: n, url: opts.url }),
    ),
  ];
  const dec = decoderFor(contentEncoding);
  if (dec) {
    stages.push(dec);
    stages.push(
      counter(
        limits.maxDecodedBytes,
        (n) => (decoded = n),
        (n) =>
          new ScholarError('E_DECODED_TOO_LARGE', `Decoded response exceeds ${limits.maxDecodedBytes} bytes`, {
            limit: limits.maxDecodedBytes,
            decoded: n,
            url: opts.url,
          }),
      ),
    );
  }
  if (Array.isArray(sink)) stages.push(...sink);
  else stages.push(sink);
  try {
    await pipeline(stages as unknown as [Readable, Writable], { signal: opts.signal });
  } catch (err) {
    if (!body.destroyed) body.destroy();
    if (err instanceof ScholarError) throw err;
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('Z_') || /incorrect header|invalid|unexpected end/i.test((err as Error).message ?? '')) {
      if (code.startsWith('Z_') || code === 'ERR_BROTLI_INVALID_PARAM')
        throw new ScholarError('E_BAD_ENCODING', `Corrupt ${contentEncoding} body`, { url: opts.url }, { cause: err });
    }
    throw err;
  }
  return { rawBytes: raw, decodedBytes: dec ? decoded : raw };
}

/** A sink that keeps the chunks in memory (for API responses, bounded by the caps above). */
export function memorySink(): { sink: Writable; result: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { sink, result: () => Buffer.concat(chunks) };
}
