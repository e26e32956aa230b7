// Tables the way `etcdctl endpoint status -w table` draws them: +---+ rules, headers
// centred in capitals, cells left-aligned.

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const centre = (text: string, width: number): string => {
    const left = Math.floor((width - text.length) / 2);
    return ' '.repeat(left) + text + ' '.repeat(width - text.length - left);
  };
  const line = (cells: readonly string[], align: (text: string, width: number) => string): string =>
    `| ${cells.map((c, i) => align(c, widths[i] ?? 0)).join(' | ')} |`;
  return [
    rule,
    line(
      headers.map((h) => h.toUpperCase()),
      centre,
    ),
    rule,
    ...rows.map((r) => line(r, (text, width) => text.padEnd(width))),
    rule,
  ].join('\n');
}
