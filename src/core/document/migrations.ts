/**
 * Migrations from each older file version to the next: migrations[v] turns a
 * version-v document into version v+1. Version 1 is the first, so none exist
 * yet; when the format changes, add the step here and a test beside it.
 */
export const migrations: Record<number, (doc: Record<string, unknown>) => Record<string, unknown>> =
  {};
