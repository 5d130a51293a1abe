/**
 * User strings (a project's name) as they may appear in generated text: a
 * Python docstring and a Markdown heading. Escaped so a name can never end
 * the string or the line it is in, which in model.py would run code.
 */

/** Characters that end or change a line in a source file or a viewer (C0, DEL, C1, U+2028/9). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const hex = (char: string, width: number) => char.codePointAt(0)!.toString(16).padStart(width, '0');

/**
 * Text for inside a Python `"""…"""` string: backslashes and quotes escaped,
 * control characters as `\xNN`/`\uNNNN` escapes, so the source stays one line
 * and the docstring's value is the text itself.
 */
export function pythonDocstringText(text: string): string {
  return text
    .replaceAll('\\', '\\\\')
    .replaceAll('"', '\\"')
    .replace(LINE_BREAKING, (c) =>
      c.length === 1 && c < '\u0100' ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`,
    );
}

/**
 * Text for one line of Markdown: line breaks become spaces, and the characters
 * that make links, emphasis, code, tables or HTML are backslash-escaped, so a
 * README shows the name as typed and nothing else.
 */
export function markdownText(text: string): string {
  return text.replace(LINE_BREAKING, ' ').replace(/[\\`*_{}[\]()<>#|!~&]/g, (c) => `\\${c}`);
}
