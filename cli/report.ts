/**
 * The auditor's report as files: Markdown for people, JSON for machines.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { toJson } from "./format.js";
import type { AuditSample } from "../protocol/audit.js";
import { renderMarkdown, type ReportWithSamples } from "./report-markdown.js";

// The renderer lives in report-markdown.ts (pure, no Node imports) so the console can use it.
export { renderMarkdown };

/** Writes `report.md` and `report.json` into `dir` (created if missing); returns their paths. */
export async function writeReport(
  r: ReportWithSamples,
  dir: string,
): Promise<{ markdown: string; json: string }> {
  await mkdir(dir, { recursive: true });
  const markdown = path.join(dir, "report.md");
  const json = path.join(dir, "report.json");
  await writeFile(markdown, renderMarkdown(r));
  await writeFile(json, toJson(r) + "\n");
  return { markdown, json };
}

/** The file in a report folder that keeps the audit samples taken (`auditor sample`). */
export const SAMPLES_FILE = "audit-samples.json";

/** The audit samples kept in a report folder (none when there is no file). */
export async function readSamples(dir: string): Promise<AuditSample[]> {
  try {
    return JSON.parse(await readFile(path.join(dir, SAMPLES_FILE), "utf8")) as AuditSample[];
  } catch {
    return [];
  }
}

/**
 * Keeps a sample in the report folder (replacing an earlier one of the same version and t), so
 * that the next `auditor report` there shows it; returns the file's path.
 */
export async function saveSample(dir: string, sample: AuditSample): Promise<string> {
  await mkdir(dir, { recursive: true });
  const kept = (await readSamples(dir)).filter(
    (s) => !(s.versionId === sample.versionId && s.t === sample.t),
  );
  const file = path.join(dir, SAMPLES_FILE);
  await writeFile(file, toJson([...kept, sample]) + "\n");
  return file;
}
