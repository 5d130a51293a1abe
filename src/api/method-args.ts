import type { z } from 'zod';

/**
 * One zod tuple per method of an API area. Hosts validate every call's
 * arguments against these; the preload bridge and the web client are generated
 * from their keys, so declaring a method here is what exposes it.
 */
export type MethodArgs<Api> = { [M in keyof Api]: z.ZodTuple };
