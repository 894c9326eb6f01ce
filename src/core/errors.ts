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
