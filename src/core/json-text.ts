/**
 * Parsing a file the user named as JSON, with a message that says what is
 * wrong without echoing its bytes (JSON.parse quotes the text it failed on,
 * which for a binary file is raw bytes in the terminal or the dialog).
 */

/** Parses JSON text, throwing an Error that names the file and the place it fails. */
export function parseJsonText(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(describeJsonError(text, err as Error, source));
  }
}

/** Whether bytes look like a binary file rather than text (a NUL, or not UTF-8). */
export function looksBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 4096);
  if (head.includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(
      head.length < bytes.length ? trimUtf8(head) : head,
    );
    return false;
  } catch {
    return true;
  }
}

/** Drops a multi-byte character cut off at the end of a prefix. */
function trimUtf8(head: Uint8Array): Uint8Array {
  const end = head.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const byte = head[end - back];
    if ((byte & 0xc0) === 0xc0) return head.subarray(0, end - back);
    if ((byte & 0x80) === 0) break;
  }
  return head;
}

function describeJsonError(text: string, err: Error, source: string): string {
  if (text.trim() === '') return `${source} is empty`;
  // V8 gives the place for some errors ("… at position 7") and only the token for others.
  const at = /position (\d+)/.exec(err.message);
  let where = '';
  if (at) {
    const before = text.slice(0, Number(at[1]));
    where = ` at line ${before.split('\n').length}, column ${before.length - before.lastIndexOf('\n')}`;
  }
  const token = /Unexpected token '(.+?)', /su.exec(err.message)?.[1];
  // Messages that quote the text are rephrased; the others name no bytes and are kept.
  const plain = err.message.replace(/ in JSON at position \d+.*$/s, '');
  const what = /Unexpected end/.test(err.message)
    ? 'it ends too early'
    : token !== undefined
      ? `an unexpected ${describeToken(token)}`
      : plain.includes('"')
        ? 'a syntax error'
        : plain.charAt(0).toLowerCase() + plain.slice(1);
  return `${source} is not valid JSON: ${what}${where}`;
}

function describeToken(token: string): string {
  const code = token.codePointAt(0) ?? 0;
  return token.length === 1 && code >= 0x20 && code < 0x7f
    ? `character '${token}'`
    : `character (code ${code})`;
}
