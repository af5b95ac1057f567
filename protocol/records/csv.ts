/** A small RFC 4180 CSV reader: quoted cells, doubled quotes, CRLF or LF line ends. */

/** One parsed CSV line: its 1-based line number in the text and its cells. */
export interface CsvLine {
  /** 1-based line number where the row starts. */
  line: number;
  /** The row's cells, unquoted. */
  cells: string[];
}

/** Parses CSV text into rows; throws a RangeError naming the line of an unterminated quote. */
export function parseCsv(text: string): CsvLine[] {
  const out: CsvLine[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let rowStart = 1;
  let i = 0;
  const endRow = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0] === "")) out.push({ line: rowStart, cells });
    cells = [];
    cell = "";
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (c === "\n") line += 1;
        cell += c;
      }
      i += 1;
      continue;
    }
    if (c === '"' && cell === "") quoted = true;
    else if (c === ",") {
      cells.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      endRow();
      line += 1;
      rowStart = line;
    } else cell += c;
    i += 1;
  }
  if (quoted) throw new RangeError(`line ${rowStart}: unterminated quoted cell`);
  endRow();
  return out;
}
