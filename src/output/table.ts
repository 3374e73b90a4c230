/**
 * Aligned plain-text tables for the terminal (`iovsim compare`): text columns are
 * left-aligned, numeric columns right-aligned, two spaces between columns.
 */

export interface TableColumn {
  header: string;
  align: 'left' | 'right';
}

/** Renders rows under headers, each column as wide as its widest cell. */
export function formatTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        return c.align === 'left' ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].map((l) => `${l}\n`).join('');
}

/** A number with a fixed number of decimals and thousands separators (1,234,567.8). */
export function formatNumber(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return '-';
  const [int, frac] = Math.abs(value).toFixed(decimals).split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${value < 0 ? '-' : ''}${grouped}${frac !== undefined ? `.${frac}` : ''}`;
}
