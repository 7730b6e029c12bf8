// Admission warnings: plugins add messages while a request runs; the middleware (mounted by the security layer)
// answers them as `Warning: 299 - "..."` headers, which kubectl prints as "Warning: ...". Requests outside the
// middleware (in-process clients) drop them.
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<string[]>();

export function addWarning(message: string): void {
  const list = current.getStore();
  if (list && !list.includes(message)) list.push(message);
}

/** Runs `fn` collecting warnings; returns them with its result. */
export async function collectWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const list: string[] = [];
  const result = await current.run(list, fn);
  return { result, warnings: list };
}

/** hono middleware: collects admission warnings of the request and appends them to the response. */
export async function admissionWarningsMiddleware(c: { res: Response }, next: () => Promise<void>): Promise<void> {
  const { warnings } = await collectWarnings(next);
  for (const w of warnings) {
    try {
      c.res.headers.append('Warning', `299 - ${JSON.stringify(w)}`);
    } catch {
      // immutable headers (a fetched response): nothing to add to
    }
  }
}
