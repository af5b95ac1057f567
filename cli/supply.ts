/**
 * Asking a supply-chain question (cli/metrics-supply.ts): each proven part under its own grant
 * at the gateway its asset names on-chain, every answer verified exactly as `automaker verify`
 * does (proof, root, log entry, the signed question), then combined in the open. The same for
 * every party: an automaker asking a supplier's stock, or a supplier asking an automaker's
 * claims (and its own delivery asset, under a grant to itself).
 */
import type { Signer } from "ethers";
import type { JobView } from "../protocol/api.js";
import { GatewayRefusal } from "../protocol/client.js";
import { dayNumber } from "../protocol/records/keys.js";
import { ask, failedChecks, verifyAnswer, waitJob, type AnswerCheck } from "./automaker.js";
import { UserError } from "./errors.js";
import {
  formatSupply,
  partFits,
  type PartValues,
  type ProvenPart,
  type SupplyMetric,
  type SupplyValue,
} from "./metrics-supply.js";
import { assetSchema } from "./policy.js";
import { periodsOf, type Period } from "./series.js";
import type { Session } from "./session.js";

/** Where one part is asked: its grant, asset, gateway and session. */
export interface PartTarget {
  part: ProvenPart;
  grantId: bigint;
  assetId: bigint;
  gatewayUrl: string;
  session: Session;
  /** Only this plant (site, country, supplier) of the part's asset; default every one. */
  plant?: string;
}

/**
 * Resolves `NAME=GRANT[@URL]` for every part of the question: the grant must exist, be the
 * signer's and be on an asset of the part's schema; the gateway is the asset's registered
 * endpoint unless a URL is given.
 */
export async function resolveParts(
  s: Session,
  metric: SupplyMetric,
  grants: readonly string[],
  plants: readonly string[],
  consumer: string,
): Promise<PartTarget[]> {
  const given = new Map<string, string>();
  for (const g of grants) {
    const m = /^([a-z]+)=(.+)$/.exec(g.trim());
    if (!m) throw new UserError(`--grant "${g}" must be NAME=GRANT or NAME=GRANT@URL`);
    if (!metric.parts.some((p) => p.name === m[1])) {
      throw new UserError(
        `--grant ${m[1]}: ${metric.name} has no part ${m[1]} (its parts: ${metric.parts.map((p) => p.name).join(", ")})`,
      );
    }
    given.set(m[1]!, m[2]!);
  }
  const plantOf = new Map<string, string>();
  for (const p of plants) {
    const m = /^([a-z]+)=(.+)$/.exec(p.trim());
    if (!m || !metric.parts.some((x) => x.name === m[1])) {
      throw new UserError(
        `--plant "${p}" must be NAME=PLANT with NAME one of ${metric.parts.map((x) => x.name).join(", ")}`,
      );
    }
    plantOf.set(m[1]!, m[2]!);
  }
  const out: PartTarget[] = [];
  for (const part of metric.parts) {
    const spec = given.get(part.name);
    if (spec === undefined) {
      throw new UserError(
        `${metric.name} needs --grant ${part.name}=GRANT (a grant on a ${part.schema} asset: ${part.words})`,
      );
    }
    const m = /^(\d+)(?:@(.+))?$/.exec(spec);
    if (!m) throw new UserError(`--grant ${part.name}: "${spec}" is not GRANT or GRANT@URL`);
    const grantId = BigInt(m[1]!);
    const grant = await s.reader.getGrant(grantId);
    if (!grant) throw new UserError(`--grant ${part.name}: grant ${grantId} does not exist`);
    if (grant.consumer.toLowerCase() !== consumer.toLowerCase()) {
      throw new UserError(
        `--grant ${part.name}: grant ${grantId} is not yours (consumer ${grant.consumer})`,
      );
    }
    const asset = await s.reader.getAsset(grant.assetId);
    if (!asset) throw new UserError(`--grant ${part.name}: asset ${grant.assetId} is unknown`);
    const gatewayUrl = (m[2] ?? asset.endpoint).replace(/\/+$/, "");
    if (!/^https?:\/\//.test(gatewayUrl)) {
      throw new UserError(
        `--grant ${part.name}: asset ${grant.assetId} names no http(s) gateway; give ${part.name}=${grantId}@URL`,
      );
    }
    const session: Session = { ...s, gatewayUrl };
    const schema = await assetSchema(session, grant.assetId);
    if (!partFits(part, schema)) {
      throw new UserError(
        `--grant ${part.name}: grant ${grantId} is on a ${schema.name} asset; the ${part.name} answer reads ${part.schema}`,
      );
    }
    out.push({
      part,
      grantId,
      assetId: grant.assetId,
      gatewayUrl,
      session,
      plant: plantOf.get(part.name),
    });
  }
  return out;
}

/** The question's dates: a window (`from`..`to`) and, for day parts, one day (`at`). */
export interface SupplyWindow {
  partNumber: string;
  from: string;
  to: string;
  /** The day of "day" parts (stock snapshots); default `to`. */
  at?: string;
  by?: "month";
}

/** One verified answer of a part. */
export interface PartAnswer {
  name: string;
  grantId: bigint;
  assetId: bigint;
  gatewayUrl: string;
  aggregate: string;
  fields: string;
  from: string;
  to: string;
  plant?: string;
  value: bigint;
  aux: bigint;
  job: JobView;
  check: AnswerCheck;
}

/** One period's answer: its value, or the refusal that left it without one. */
export interface SupplyPoint {
  period: Period;
  value?: SupplyValue;
  formatted?: string;
  parts: PartAnswer[];
  refused?: { part: string; grantId: bigint; code: string; reason: string };
}

/**
 * Asks the question for the window (or each month of it), every part under its grant; waits
 * for each answer and verifies it. A refusal (e.g. a month below k) leaves that period without a
 * value; a failed check stops the question (the answer does not count).
 */
export async function askSupply(
  consumer: Signer,
  metric: SupplyMetric,
  targets: readonly PartTarget[],
  w: SupplyWindow,
  onProgress: (line: string) => void = () => {},
): Promise<SupplyPoint[]> {
  const by = metric.by ?? w.by;
  let periods: Period[];
  try {
    periods = by ? periodsOf(by, w.from, w.to) : [{ label: `${w.from}…${w.to}`, ...w }];
    if (!by && dayNumber(w.from) > dayNumber(w.to)) throw new RangeError("from is after to");
    if (w.at !== undefined) dayNumber(w.at);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`dates: ${(e as Error).message} (YYYY-MM-DD)`);
  }
  const sent: {
    period: Period;
    asked: { t: PartTarget; jobId: string; from: string; to: string }[];
    refused?: SupplyPoint["refused"];
  }[] = [];
  for (const period of periods) {
    const entry: (typeof sent)[number] = { period, asked: [] };
    sent.push(entry);
    for (const t of targets) {
      const day = w.at ?? period.to;
      const [from, to] = t.part.dates === "day" ? [day, day] : [period.from, period.to];
      try {
        const schema = await assetSchema(t.session, t.assetId);
        const job = await ask(t.session, consumer, schema, {
          grantId: t.grantId,
          assetId: t.assetId,
          versionId: 0n,
          aggregate: t.part.aggregate,
          fieldA: t.part.fieldA,
          fieldB: t.part.fieldB,
          partNumber: w.partNumber,
          plant: t.plant,
          from,
          to,
        });
        entry.asked.push({ t, jobId: job.jobId, from, to });
      } catch (e) {
        if (!(e instanceof GatewayRefusal)) throw e;
        entry.refused = { part: t.part.name, grantId: t.grantId, code: e.code, reason: e.reason };
        break; // the period has no value: its other parts are not asked (nor charged)
      }
    }
  }
  onProgress(`${sent.reduce((n, x) => n + x.asked.length, 0)} proofs in flight …`);
  const points: SupplyPoint[] = [];
  for (const x of sent) {
    const parts: PartAnswer[] = [];
    for (const a of x.asked) {
      const job = await waitJob(a.t.session, a.jobId);
      const check = await verifyAnswer(a.t.session, job);
      const failed = failedChecks(check);
      if (failed.length > 0) {
        throw new UserError(
          `${x.period.label}: the ${a.t.part.name} answer (job ${a.jobId}) failed: ${failed.join(", ")}`,
        );
      }
      onProgress(`  ${x.period.label}: ${a.t.part.name} proved, logged and verified`);
      parts.push({
        name: a.t.part.name,
        grantId: a.t.grantId,
        assetId: a.t.assetId,
        gatewayUrl: a.t.gatewayUrl,
        aggregate: a.t.part.aggregate,
        fields: [a.t.part.fieldA, a.t.part.fieldB].filter(Boolean).join("/"),
        from: a.from,
        to: a.to,
        ...(a.t.plant === undefined ? {} : { plant: a.t.plant }),
        value: BigInt(job.answer!.resultValue),
        aux: BigInt(job.answer!.resultAux),
        job,
        check,
      });
    }
    if (x.refused) {
      points.push({ period: x.period, parts, refused: x.refused });
      continue;
    }
    const v: PartValues = Object.fromEntries(
      parts.map((p) => [p.name, { value: p.value, aux: p.aux }]),
    );
    const days = dayNumber(x.period.to) - dayNumber(x.period.from) + 1;
    const value = metric.value(v, days);
    points.push({ period: x.period, parts, value, formatted: formatSupply(metric, value) });
  }
  return points;
}

/** The answer in words: one line per period with the combination, one per proven part. */
export function supplyLines(metric: SupplyMetric, points: readonly SupplyPoint[]): string[] {
  const lines: string[] = [`${metric.title} (${metric.combination})`];
  for (const p of points) {
    if (!p.value) {
      lines.push(
        `  ${p.period.label}: refused by grant ${p.refused?.grantId} (${p.refused?.part}): ${p.refused?.code} — ${p.refused?.reason}`,
      );
      continue;
    }
    lines.push(`  ${p.period.label}: ${p.formatted} ${metric.unit} = ${p.value.shown}`);
    for (const a of p.parts) {
      lines.push(
        `    ${a.name}: ${a.aggregate.toUpperCase()}(${a.fields}) ${a.from}…${a.to}${a.plant ? ` at ${a.plant}` : ""} = ${a.value} over ${a.aggregate === "ratio" ? "(count not revealed)" : `${a.aux} records`} — grant ${a.grantId}, asset ${a.assetId}, ${a.gatewayUrl}, job ${a.job.jobId}, every check ok`,
      );
    }
  }
  return lines;
}
