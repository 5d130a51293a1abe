/** Every service method answers with a Result: a thrown error becomes a failure with its message. */
import { fail, ok, type Result } from '../api/result';

export async function guard<T>(work: () => Promise<T> | T): Promise<Result<T>> {
  try {
    return ok(await work());
  } catch (err) {
    return fail((err as Error).message);
  }
}
