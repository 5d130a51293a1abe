import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { confinePath, PathOutsideRoots } from './confined-path';

const top = mkdtempSync(path.join(tmpdir(), 'confined-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));
const root = path.join(top, 'root');
const data = path.join(top, 'data');
const secret = path.join(top, 'secret');
for (const dir of [root, data, secret, path.join(root, 'nets')]) mkdirSync(dir);
writeFileSync(path.join(secret, 'key'), 'private');
symlinkSync(secret, path.join(root, 'out'));
symlinkSync(path.join(secret, 'key'), path.join(root, 'key.bin'));
symlinkSync(path.join(root, 'nets'), path.join(root, 'in'));
symlinkSync(path.join(top, 'nowhere'), path.join(root, 'dangling'));
const area = { base: root, roots: [root, data], label: 'the workspace' };

function refusal(requested: string): string {
  try {
    confinePath(requested, area);
  } catch (err) {
    expect(err).toBeInstanceOf(PathOutsideRoots);
    return (err as Error).message;
  }
  throw new Error(`'${requested}' was not refused`);
}

describe('confinePath', () => {
  it('resolves paths inside the roots, existing or not, to their real path', () => {
    expect(confinePath('nets/a.json', area)).toBe(path.join(root, 'nets', 'a.json'));
    expect(confinePath('new/folder/b.json', area)).toBe(path.join(root, 'new', 'folder', 'b.json'));
    expect(confinePath('in/c.json', area)).toBe(path.join(root, 'nets', 'c.json'));
    expect(confinePath('nets/../d.json', area)).toBe(path.join(root, 'd.json'));
    expect(confinePath(path.join(data, 'images'), area)).toBe(path.join(data, 'images'));
    expect(confinePath('.', area)).toBe(root);
  });

  it('refuses .., absolute paths elsewhere, and links that lead out', () => {
    expect(refusal('../secret/key')).toBe(
      "'../secret/key' is outside the workspace; give a path inside it",
    );
    expect(refusal('/etc/passwd')).toMatch(/is outside the workspace/);
    expect(refusal(`${root}-sibling/x`)).toMatch(/is outside the workspace/);
    expect(refusal('out/key')).toMatch(/'out\/key' leads outside the workspace through a link/);
    expect(refusal('out/new-file')).toMatch(/through a link/);
    expect(refusal('key.bin')).toMatch(/through a link/);
    expect(refusal('dangling')).toMatch(/a link to something that does not exist/);
    expect(refusal('dangling/below')).toMatch(/a link to something that does not exist/);
    expect(refusal('a\0b')).toMatch(/not a valid path/);
  });
});
