/**
 * A small SVG bar-chart writer (answers per day, quota use per grant): a few dozen bars need no
 * charting library. Built with DOM calls, labels as text nodes.
 */
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
