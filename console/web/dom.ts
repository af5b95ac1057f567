/**
 * A few DOM helpers. Every value goes in as text (textContent, attributes), never as HTML, so
 * nothing a gateway or the chain returns can become markup or script.
 */

type Child = Node | string | number | bigint | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

/** Creates an element with attributes (on* keys become listeners) and text or element children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, ...children);
  return el;
}

/** Appends children (strings as text nodes). */
export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A table with a header row; `numeric` columns are right-aligned. */
export function table(
  caption: string,
  head: string[],
  rows: { cells: Child[]; className?: string; attrs?: Attrs }[],
  numeric: number[] = [],
): HTMLElement {
  const cls = (i: number) => (numeric.includes(i) ? "num" : undefined);
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      {},
      h("caption", { class: "muted" }, caption),
      h(
        "thead",
        {},
        h("tr", {}, ...head.map((t, i) => h("th", { scope: "col", class: cls(i) }, t))),
      ),
      h(
        "tbody",
        {},
        ...(rows.length === 0
          ? [h("tr", {}, h("td", { colspan: head.length, class: "muted" }, "none"))]
          : rows.map((r) =>
              h(
                "tr",
                { class: r.className, ...r.attrs },
                ...r.cells.map((c, i) => h("td", { class: cls(i) }, c)),
              ),
            )),
      ),
    ),
  );
}

/** A short form of an address or hash: 0x1234…abcd (the full value in the title). */
export function short(hex: string): HTMLElement {
  const s = hex.length > 14 ? `${hex.slice(0, 6)}…${hex.slice(-4)}` : hex;
  return h("span", { class: "mono", title: hex }, s);
}

/** Replaces an element's content. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

/** A message of an error, for display. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Offers `text` as a file download. */
export function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
