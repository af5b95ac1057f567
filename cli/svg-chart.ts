/**
 * A small SVG line chart for `automaker series`: one point per period, refused periods as gaps
 * marked below the axis. Written by hand rather than with a charting library: the kept ones
 * (vega, chart.js, d3) need a DOM or a canvas, or bring megabytes of dependencies, for what is
 * here about a hundred lines of plain text with no input from the network (every label is
 * escaped).
 */

/** One point of the chart: its label and value, or null for a gap (a refused period). */
export interface ChartPoint {
  label: string;
  value: number | null;
  /** Text shown for a gap (e.g. "refused: k"). */
  note?: string;
}

/** What the chart shows. */
export interface LineChart {
  title: string;
  /** Unit of the y axis. */
  unit: string;
  points: readonly ChartPoint[];
  width?: number;
  height?: number;
}

/** Escapes text for SVG content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A "nice" upper bound for the axis: 1, 2, 2.5 or 5 times a power of ten, ≥ max. */
export function niceMax(max: number): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

const fmt = (v: number) =>
  Math.abs(v) >= 1000 || Number.isInteger(v)
    ? Math.round(v).toLocaleString("en-US")
    : String(Number(v.toPrecision(3)));

/** The chart as an SVG document. */
export function lineChartSvg(c: LineChart): string {
  const W = c.width ?? 720;
  const H = c.height ?? 360;
  const m = { left: 80, right: 24, top: 48, bottom: 64 };
  const plotW = W - m.left - m.right;
  const plotH = H - m.top - m.bottom;
  const values = c.points.map((p) => p.value).filter((v): v is number => v !== null);
  const top = niceMax(Math.max(0, ...values));
  const n = c.points.length;
  const x = (i: number) => m.left + (n <= 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (v: number) => m.top + plotH - (v / top) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(c.title)}</text>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = (top * t) / 4;
    out.push(
      `<line x1="${m.left}" x2="${W - m.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${m.left - 8}" y="${y(v) + 4}" text-anchor="end">${escapeXml(fmt(v))}</text>`,
    );
  }
  out.push(
    `<text x="16" y="${m.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.top + plotH / 2})">${escapeXml(c.unit)}</text>`,
    `<line x1="${m.left}" x2="${W - m.right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`,
  );
  // the line: one segment per run of consecutive points with a value
  let run: string[] = [];
  const flush = () => {
    if (run.length > 1) {
      out.push(
        `<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="${run.join(" ")}"/>`,
      );
    }
    run = [];
  };
  c.points.forEach((p, i) => {
    out.push(
      `<text x="${x(i)}" y="${m.top + plotH + 20}" text-anchor="middle">${escapeXml(p.label)}</text>`,
    );
    if (p.value === null) {
      flush();
      out.push(
        `<text x="${x(i)}" y="${m.top + plotH + 38}" text-anchor="middle" fill="#b00">${escapeXml(p.note ?? "no answer")}</text>`,
      );
      return;
    }
    run.push(`${x(i)},${y(p.value)}`);
    out.push(
      `<circle cx="${x(i)}" cy="${y(p.value)}" r="4" fill="#1f6feb"/>`,
      `<text x="${x(i)}" y="${y(p.value) - 10}" text-anchor="middle">${escapeXml(fmt(p.value))}</text>`,
    );
  });
  flush();
  out.push("</svg>");
  return out.join("\n") + "\n";
}
