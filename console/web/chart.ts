/**
 * A small SVG bar-chart writer (answers per day, quota use per grant): a few dozen bars need no
 * charting library. Built with DOM calls, labels as text nodes.
 */
import { niceMax } from "../../cli/svg-chart.js";

const NS = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** One bar: a label, its value and, optionally, a capacity drawn behind it (quota). */
export interface Bar {
  label: string;
  value: number;
  capacity?: number;
}

/** A horizontal bar chart with a title (used as its accessible name). */
export function barChart(title: string, bars: Bar[], unit = ""): SVGSVGElement {
  const rowH = 22;
  const labelW = 150;
  const width = 560;
  const barW = width - labelW - 70;
  const height = Math.max(1, bars.length) * rowH + 8;
  const max = Math.max(1, ...bars.map((b) => Math.max(b.value, b.capacity ?? 0)));
  const root = svg("svg", {
    class: "chart",
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": title,
  });
  root.append(svg("title", {}, title));
  bars.forEach((b, i) => {
    const y = 4 + i * rowH;
    root.append(svg("text", { x: 0, y: y + 14 }, b.label));
    if (b.capacity !== undefined) {
      root.append(
        svg("rect", {
          x: labelW,
          y: y + 3,
          width: (barW * b.capacity) / max,
          height: rowH - 8,
          fill: "none",
          stroke: "#8c959f",
        }),
      );
    }
    root.append(
      svg("rect", {
        class: b.capacity !== undefined ? "used" : "bar",
        x: labelW,
        y: y + 3,
        width: Math.max(1, (barW * b.value) / max),
        height: rowH - 8,
      }),
    );
    const text = b.capacity !== undefined ? `${b.value} / ${b.capacity}` : `${b.value}${unit}`;
    root.append(
      svg(
        "text",
        { x: labelW + (barW * Math.max(b.value, b.capacity ?? 0)) / max + 6, y: y + 14 },
        text,
      ),
    );
  });
  return root;
}

/** One point of a line chart: a value, or null for a gap (a refused period) with its note. */
export interface LinePoint {
  label: string;
  value: number | null;
  note?: string;
}

/**
 * A line chart of a series (the console's twin of the CLI's SVG file, cli/svg-chart.ts, with
 * the same axis rule): one circle per point with a value, the line broken at every gap, and
 * each gap's note under the axis. Points and gaps carry data-period for tests and styles.
 */
export function lineChart(title: string, unit: string, points: LinePoint[]): SVGSVGElement {
  const [W, H] = [640, 280];
  const m = { left: 64, right: 40, top: 28, bottom: 52 };
  const plotW = W - m.left - m.right;
  const plotH = H - m.top - m.bottom;
  const top = niceMax(Math.max(0, ...points.flatMap((p) => (p.value === null ? [] : [p.value]))));
  const x = (i: number) =>
    m.left + (points.length <= 1 ? plotW / 2 : (i * plotW) / (points.length - 1));
  const y = (v: number) => m.top + plotH - (v / top) * plotH;
  const root = svg("svg", {
    class: "chart line",
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": `${title} (${unit})`,
  });
  root.append(svg("title", {}, `${title} (${unit})`));
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const v = top * t;
    root.append(
      svg("line", { class: "grid", x1: m.left, x2: W - m.right, y1: y(v), y2: y(v) }),
      svg("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end" }, compact(v)),
    );
  }
  root.append(svg("text", { x: 4, y: m.top - 8 }, unit));
  let run: string[] = [];
  const flush = () => {
    if (run.length > 1) root.append(svg("polyline", { class: "series", points: run.join(" ") }));
    run = [];
  };
  points.forEach((p, i) => {
    root.append(svg("text", { x: x(i), y: H - m.bottom + 18, "text-anchor": "middle" }, p.label));
    if (p.value === null) {
      flush();
      root.append(
        svg(
          "text",
          {
            class: "gap",
            "data-period": p.label,
            x: x(i),
            y: H - m.bottom + 36,
            "text-anchor": "middle",
          },
          p.note ?? "no answer",
        ),
      );
      return;
    }
    run.push(`${x(i)},${y(p.value)}`);
    root.append(
      svg("circle", { "data-period": p.label, cx: x(i), cy: y(p.value), r: 4 }),
      svg("text", { x: x(i), y: y(p.value) - 9, "text-anchor": "middle" }, compact(p.value)),
    );
  });
  flush();
  return root;
}

/** A number for a chart label: integers grouped, others to three significant digits. */
function compact(v: number): string {
  return Number.isInteger(v) || Math.abs(v) >= 1000
    ? Math.round(v).toLocaleString("en-US")
    : String(Number(v.toPrecision(3)));
}
