/**
 * Building HTML from untrusted strings. Node names, class names, file names and commands come
 * from model files and users; every one goes through `esc` (text and attribute values alike)
 * or `jsonForScript` (data for the page's script). Nothing else is ever concatenated into HTML.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe inside an element or a quoted attribute value. */
export function esc(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * JSON safe inside `<script type="application/json">`: `<` is written `\u003c`, so that no
 * `</script>` or `<!--` in a string can end or change the element; U+2028/2029 likewise, for
 * older parsers. `JSON.parse` reads the escapes back as the same characters.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** `<table>` from header cells and rows of ready-made (already escaped) cell HTML. */
export function htmlTable(className: string, head: string[], rows: string[][], headerRows = 1): string {
  const th = (c: string) => `<th>${c}</th>`;
  const td = (c: string, i: number) => (i < headerRows ? `<th scope="row">${c}</th>` : `<td>${c}</td>`);
  return [
    `<table class="${esc(className)}">`,
    `<thead><tr>${head.map(th).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((r) => `<tr>${r.map(td).join('')}</tr>`),
    '</tbody>',
    '</table>',
  ].join('\n');
}
