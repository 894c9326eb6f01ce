/** Every error that leaves the core carries a stable code; the UI maps codes to messages. */
export class ScholarError extends Error {
  readonly code: string;
  readonly details?: Record<string, unknown>;
  constructor(code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
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

/**
 * Declared error codes: whether a retry can ever help (`permanent`) and the sentence a user reads.
 * Only the network codes live here so far; issue 16 moves every code into this table, so new codes
 * go here and nowhere else.
 */
export const ERROR_CODES = {
  E_NETWORK: { permanent: false, text: 'the connection failed' },
  E_TIMEOUT: { permanent: false, text: 'the service took too long to answer' },
  E_CIRCUIT_OPEN: { permanent: false, text: 'the service failed repeatedly; Scholar pauses it for a while' },
  E_UNREACHABLE: { permanent: false, text: 'the service cannot be reached (offline, or behind a proxy?)' },
  E_TLS: { permanent: false, text: "the service's TLS certificate is not trusted (a TLS-inspecting firewall needs its certificate in the system store)" },
  E_PROXY: { permanent: false, text: 'the proxy cannot be reached or refused the connection' },
  E_PROXY_AUTH: { permanent: false, text: 'the proxy asks for credentials (HTTP 407)' },
  E_QUOTA_EXHAUSTED: { permanent: false, text: "the service's usage allowance is used up for today" },
  E_KEY_REQUIRED: { permanent: false, text: 'the service refused the request for lack of a valid API key' },
} as const satisfies Record<string, { permanent: boolean; text: string }>;

export type DeclaredCode = keyof typeof ERROR_CODES;

/** Codes after which Scholar stops asking that service for the rest of the job (see net/http.ts). */
export const SERVICE_DOWN_CODES: readonly DeclaredCode[] = ['E_UNREACHABLE', 'E_TLS', 'E_PROXY', 'E_PROXY_AUTH', 'E_QUOTA_EXHAUSTED', 'E_KEY_REQUIRED'];

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
