import { expect, it } from 'vitest';
import { rateLimit } from './rate-limit';

it('opens at most the given times a second, and always when forced', async () => {
  const due = rateLimit(10);
  expect(due()).toBe(true);
  expect(due()).toBe(false);
  expect(due(true)).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 120));
  expect(due()).toBe(true);
});
