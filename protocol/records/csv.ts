/**
 * CSV reading with `csv-parse` (RFC 4180: quoted cells, doubled quotes, CRLF or LF line ends),
 * strict about quotes (a stray quote refuses the text) and bounded: at most
 * {@link MAX_CSV_COLUMNS} cells per row and {@link MAX_CSV_RECORD_CHARS} characters per row.
 * csv-parse's own error messages quote cell values, so they are replaced by messages that
 * name the line and the rule only.
 */
import { parse, CsvError } from "csv-parse/sync";

/** Most cells a CSV row may have (every schema has fewer than ten columns). */
export const MAX_CSV_COLUMNS = 64;
/** Most characters of one CSV row. */
export const MAX_CSV_RECORD_CHARS = 64 * 1024;

/** One parsed CSV line: its 1-based line number in the text and its cells. */
export interface CsvLine {
  /** 1-based line number where the row ends (where it starts, unless a quoted cell spans lines). */
  line: number;
  /** The row's cells, unquoted. */
  cells: string[];
}

/** Thrown for CSV text that cannot be read; the message names the line and the rule, no value. */
export class CsvSyntaxError extends RangeError {
  override name = "CsvSyntaxError";
}

const REASONS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: "unterminated quoted cell",
  INVALID_OPENING_QUOTE: "a quote inside an unquoted cell (quote the whole cell and double it)",
  CSV_INVALID_CLOSING_QUOTE: "a quoted cell goes on after its closing quote",
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: "a quoted cell goes on after its closing quote",
  CSV_MAX_RECORD_SIZE: `a row is longer than ${MAX_CSV_RECORD_CHARS} characters`,
};

/**
 * Parses CSV text into rows (empty lines skipped); throws {@link CsvSyntaxError} naming the
 * line of a quoting error, an overlong row, or a row of more than {@link MAX_CSV_COLUMNS} cells.
 */
export function parseCsv(text: string): CsvLine[] {
  const lines: number[] = [];
  try {
    const rows = parse(text, {
      bom: true,
      relax_column_count: true, // ragged rows are reported per row by the caller
      relax_quotes: false,
      skip_empty_lines: true,
      max_record_size: MAX_CSV_RECORD_CHARS,
      on_record: (cells, info) => {
        // csv-parse (7.0.3) applies max_record_size to the first row only: the bound is kept
        // here for every row
        if (cells.reduce((n, c) => n + c.length, 0) > MAX_CSV_RECORD_CHARS) {
          throw new CsvSyntaxError(`line ${info.lines}: ${REASONS.CSV_MAX_RECORD_SIZE}`);
        }
        if (cells.length > MAX_CSV_COLUMNS) {
          throw new CsvSyntaxError(
            `line ${info.lines}: has ${cells.length} columns, at most ${MAX_CSV_COLUMNS} are read`,
          );
        }
        lines.push(info.lines);
        return cells;
      },
    });
    return rows.map((cells, i) => ({ line: lines[i]!, cells }));
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw e;
    if (e instanceof CsvError) {
      const line = (e as CsvError & { lines?: number }).lines;
      const reason = REASONS[e.code] ?? "is not valid CSV";
      throw new CsvSyntaxError(line === undefined ? reason : `line ${line}: ${reason}`);
    }
    throw e;
  }
}
