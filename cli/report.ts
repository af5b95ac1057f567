/**
 * The auditor's report as files: Markdown for people, JSON for machines.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { toJson } from "./format.js";
import type { AuditReport } from "./reconcile.js";
import { renderMarkdown } from "./report-markdown.js";

// The renderer lives in report-markdown.ts (pure, no Node imports) so the console can use it.
export { renderMarkdown };

/** Writes `report.md` and `report.json` into `dir` (created if missing); returns their paths. */
export async function writeReport(
  r: AuditReport,
  dir: string,
): Promise<{ markdown: string; json: string }> {
  await mkdir(dir, { recursive: true });
  const markdown = path.join(dir, "report.md");
  const json = path.join(dir, "report.json");
  await writeFile(markdown, renderMarkdown(r));
  await writeFile(json, toJson(r) + "\n");
  return { markdown, json };
}
