/**
 * The demo's chapter on audits by public randomness (issue 15): the auditor samples the latest
 * published version of each supplier's asset at leaves drawn from the chain (the block hash 5
 * blocks after publication), checks every proof the gateways return, and the report shows the
 * samples with the bound (1 − f)^t.
 */
import * as auditorCli from "../../cli/auditor.js";
import { writeReport } from "../../cli/report.js";
import type { ReportWithSamples } from "../../cli/report-markdown.js";
import type { Session } from "../../cli/session.js";
import { versionIdOf } from "../../protocol/contract.js";
import type { AuditSample } from "../../protocol/audit.js";
import type { JsonRpcProvider } from "ethers";

/**
 * Draws per version in the demo. Each distinct leaf is one AuditPath proof (≈ 49k constraints at
 * depth 20), so the demo keeps t small and says what bound that buys; `auditor sample` defaults
 * to 300.
 */
export const DEMO_AUDIT_T = 6;

/** What the chapter needs from the demo. */
export interface DemoAuditInput {
  /** One session per supplier (each with its gateway), in the order of `assets`. */
  sessions: readonly Session[];
  /** Each supplier's asset. */
  assets: readonly bigint[];
  /** The node, to mine the seed block when the chain has not got there yet. */
  provider: JsonRpcProvider;
  /** The auditor's report so far; rewritten with the samples. */
  report: ReportWithSamples;
  /** The report folder. */
  outDir: string;
  /** Prints one line of the story. */
  say: (line: string) => void;
  /** Draws per version (default {@link DEMO_AUDIT_T}). */
  t?: number;
}

/** Samples the latest version of each asset, prints the results and the bound, and rewrites the report. */
export async function demoAudit(input: DemoAuditInput): Promise<AuditSample[]> {
  const t = input.t ?? DEMO_AUDIT_T;
  // each version on its own gateway, both at once; shown in the order of `assets`
  const samples = await Promise.all(
    input.assets.map(async (assetId, i) => {
      const s = input.sessions[i]!;
      const asset = (await s.reader.getAsset(assetId))!;
      const version = asset.versionCount;
      const seed = await s.reader.auditSeed(versionIdOf(assetId, version));
      // a quiet local chain may not have reached the seed block yet: blocks come with transactions
      for (let b = await input.provider.getBlockNumber(); b < (seed?.seedBlock ?? 0); b++) {
        await input.provider.send("evm_mine", []);
      }
      return auditorCli.sampleVersion(s, { assetId, version, t });
    }),
  );
  for (const [i, sample] of samples.entries()) {
    input.say(
      `asset ${input.assets[i]} version ${sample.version} (${sample.recordCount} records): seed = hash of block ${sample.seedBlock}, ` +
        `${t} draws opened ${sample.distinct} leaves → ${sample.passed ? "every proof verifies" : `FAILED: ${sample.findings.map((f) => f.detail).join("; ")}`}`,
    );
  }
  for (const b of samples[0]?.bound ?? []) {
    input.say(
      `a tree with ${b.f * 100}% of its links malformed survives ${t} draws with probability ≤ ${b.escape.toPrecision(3)}`,
    );
  }
  await writeReport({ ...input.report, samples }, input.outDir);
  return samples;
}
