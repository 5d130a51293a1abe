/**
 * The generic method dispatcher both hosts use: a call {id, method, args}
 * arrives from an untrusted renderer, is checked (envelope, known method,
 * arguments against the method's schema) and answered with Result<T>.
 */
import { z } from 'zod';
import { fail, type Result } from '../api/result';
import { type StudioApi, type StudioMethod, studioMethodArgs } from '../api/studio-api';

const callSchema = z.strictObject({
  id: z.number().int().nonnegative(),
  method: z.string().min(1).max(100),
  args: z.array(z.unknown()).max(16),
});

export interface Answer {
  id: number | null;
  result: Result<unknown>;
}

export function isStudioMethod(method: string): method is StudioMethod {
  return Object.hasOwn(studioMethodArgs, method);
}

/** Validates a method's arguments; the error names the method and the argument at fault. */
export function checkArgs(method: string, args: unknown[]): Result<unknown[]> {
  if (!isStudioMethod(method)) return fail(`unknown method '${method}'`);
  const parsed = studioMethodArgs[method].safeParse(args);
  if (parsed.success) return { ok: true, value: parsed.data as unknown[] };
  const issue = parsed.error.issues[0];
  return fail(
    `bad arguments for ${method}: argument ${issue.path.join('.') || '(list)'} ${issue.message}`,
  );
}

/** Runs one validated method; a thrown error becomes a failed Result, never a crash of the host. */
export async function invoke(
  api: StudioApi,
  method: string,
  args: unknown[],
): Promise<Result<unknown>> {
  const checked = checkArgs(method, args);
  if (!checked.ok) return checked;
  try {
    const fn = api[method as StudioMethod] as (...a: unknown[]) => Promise<Result<unknown>>;
    return await fn.apply(api, checked.value);
  } catch (err) {
    return fail(`${method} failed: ${(err as Error).message}`);
  }
}

/**
 * How deep a message may nest arrays and objects. A project nests about six
 * levels; a message nested thousands deep would parse, then overflow the
 * stack of whatever walks it (validation, inference, an exporter).
 */
export const MAX_MESSAGE_DEPTH = 64;

/** The deepest nesting of arrays and objects in JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** Parses and answers one raw message (a WebSocket frame's text). */
export async function dispatch(api: StudioApi, raw: string): Promise<Answer> {
  if (jsonDepth(raw) > MAX_MESSAGE_DEPTH) {
    return {
      id: null,
      result: fail(`the message nests deeper than ${MAX_MESSAGE_DEPTH} levels; no call needs that`),
    };
  }
  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch {
    return { id: null, result: fail('the message is not valid JSON') };
  }
  const call = callSchema.safeParse(message);
  if (!call.success) {
    return {
      id: null,
      result: fail('a call must be {id, method, args} with a numeric id and an argument list'),
    };
  }
  return { id: call.data.id, result: await invoke(api, call.data.method, call.data.args) };
}
