/**
 * `partproof`: the command line of each role.
 *
 *   partproof supplier register|upload|publish|grant|approve|reject|revoke|quota|expiry|asked
 *   partproof automaker assets|request-grant|query|verify
 *   partproof auditor report
 *
 * Common options: --rpc URL, --deployment FILE, --gateway URL, --key-env VAR | --keystore FILE,
 * --json. Run any command with --help for its options.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Command, Option } from "commander";
import type { Signer } from "ethers";
import { readChainLog, renderMarkdown } from "./audit.js";
import { loadWallet } from "./keys.js";
import * as ops from "./ops.js";

/** Where a command's output goes (the CLI's stdout/stderr, or a test's buffer). */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** Global options every command accepts. */
interface GlobalOpts {
  rpc: string;
  deployment?: string;
  gateway?: string;
  keyEnv: string;
  keystore?: string;
  passwordEnv: string;
  json: boolean;
}

const jsonReplacer = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** Parses a date (YYYY-MM-DD), a unix time, or a duration from now (30d, 12h) into unix seconds. */
export function parseTime(v: string, now = Math.floor(Date.now() / 1000)): number {
  const d = /^(\d+)([smhd])$/.exec(v);
  if (d)
    return now + Number(d[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[d[2] as "s" | "m" | "h" | "d"];
  if (/^\d+$/.test(v)) return Number(v);
  const ms = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
  if (!Number.isFinite(ms))
    throw new ops.UserError(`"${v}" is not a date, unix time or duration like 30d`);
  return Math.floor(ms / 1000);
}

function positiveInt(name: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < 1)
      throw new ops.UserError(`${name} must be a positive integer, got "${v}"`);
    return Number(v);
  };
}

function bigId(name: string, v: string): bigint {
  if (!/^\d+$/.test(v)) throw new ops.UserError(`${name} must be a number, got "${v}"`);
  return BigInt(v);
}

const list = (v: string) =>
  v
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

/** Builds the program; `io` receives all output. */
export function buildProgram(io: Io, overrides: { session?: ops.Session } = {}): Command {
  const program = new Command("partproof")
    .description("PartProof: usable-but-invisible supply-chain data, one command line per role")
    .addOption(
      new Option("--rpc <url>", "JSON-RPC URL of the chain")
        .env("PARTPROOF_RPC_URL")
        .default("http://127.0.0.1:8545"),
    )
    .addOption(
      new Option("--deployment <file>", "deployment file written by scripts/deploy.ts").env(
        "PARTPROOF_DEPLOYMENT",
      ),
    )
    .addOption(new Option("--gateway <url>", "the supplier's gateway").env("PARTPROOF_GATEWAY"))
    .option("--key-env <var>", "environment variable holding your private key", "PARTPROOF_KEY")
    .option("--keystore <file>", "encrypted JSON keystore holding your key")
    .option(
      "--password-env <var>",
      "environment variable holding the keystore password",
      "PARTPROOF_KEYSTORE_PASSWORD",
    )
    .option("--json", "print machine-readable JSON", false)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
    });

  const g = (): GlobalOpts => program.opts<GlobalOpts>();
  const session = async () =>
    overrides.session ??
    ops.openSession({ rpcUrl: g().rpc, deploymentFile: g().deployment, gatewayUrl: g().gateway });
  const signer = async (s: ops.Session): Promise<Signer> =>
    loadWallet(
      { keyEnv: g().keyEnv, keystore: g().keystore, passwordEnv: g().passwordEnv },
      s.provider,
    );
  const print = (data: unknown, human: string | string[]) => {
    if (g().json) io.out(JSON.stringify(data, jsonReplacer, 2));
    else for (const line of Array.isArray(human) ? human : [human]) io.out(line);
  };
  const progress = (m: string) => {
    if (!g().json) io.err(m);
  };

  // ------------------------------------------------------------ supplier
  const supplier = program
    .command("supplier")
    .description("publish data and manage who may ask what");

  supplier
    .command("register")
    .description("register a data asset on-chain")
    .requiredOption("--schema <name>", "quality, delivery or pcf (or the Catena-X aspect URN)")
    .requiredOption("--endpoint <url>", "gateway URL consumers send queries to")
    .option("--metadata <text>", "public description (its hash goes on-chain)")
    .action(async (o: { schema: string; endpoint: string; metadata?: string }) => {
      const s = await session();
      const r = await ops.registerAsset(s, await signer(s), o);
      print(r, `asset ${r.assetId} registered (${ops.schemaOf(o.schema).id}), tx ${r.tx}`);
    });

  supplier
    .command("upload")
    .description(
      "upload records (a file or a folder of JSON/CSV/Catena-X files) and publish the new version",
    )
    .argument("<assetId>")
    .argument("<path>", "file or folder")
    .option("--no-publish", "only build the version at the gateway")
    .option(
      "--direct",
      "publish from your own account instead of through the gateway's relayer",
      false,
    )
    .action(async (assetId: string, p: string, o: { publish: boolean; direct: boolean }) => {
      const s = await session();
      const owner = await signer(s);
      const id = bigId("assetId", assetId);
      const results = [];
      for (const file of await ops.uploadFiles(p)) {
        progress(`uploading ${file} …`);
        const up = await ops.upload(s, owner, id, await ops.readUploadFile(file));
        const v = up.version;
        let published: { versionId: bigint; txHash: string } | undefined;
        if (o.publish) {
          published = o.direct
            ? await ops.publishDirect(s, owner, v)
            : await ops.publishViaGateway(s, owner, v);
        }
        results.push({ file, created: up.created, version: v, published });
        print(
          { file, created: up.created, version: v, published },
          `${file}: ${v.recordCount} records → ${up.created ? "new" : "existing"} version (root ${v.root.slice(0, 14)}…)` +
            (published ? `, published on-chain as version ${published.versionId}` : ""),
        );
      }
    });

  supplier
    .command("publish")
    .description("publish a version the gateway built (see `upload --no-publish`)")
    .argument("<assetId>")
    .argument("<localId>")
    .requiredOption("--root <root>")
    .requiredOption("--records <n>")
    .requiredOption("--depth <d>")
    .requiredOption("--params-hash <hash>")
    .option("--direct", "publish from your own account", false)
    .action(
      async (
        assetId: string,
        localId: string,
        o: { root: string; records: string; depth: string; paramsHash: string; direct: boolean },
      ) => {
        const s = await session();
        const v: ops.LocalVersion = {
          assetId,
          localId: Number(localId),
          root: o.root,
          recordCount: Number(o.records),
          treeDepth: Number(o.depth),
          paramsHash: o.paramsHash,
          batchHash: "",
        };
        const owner = await signer(s);
        const r = o.direct
          ? await ops.publishDirect(s, owner, v)
          : await ops.publishViaGateway(s, owner, v);
        print(r, `published as version ${r.versionId}, tx ${r.txHash}`);
      },
    );

  const policyOptions = (c: Command) =>
    c
      .requiredOption(
        "--aggregates <list>",
        "allowed aggregates: count,sum,avg,min,max,ratio,threshold",
        list,
      )
      .requiredOption("--fields <list>", "fields that may be aggregated (names or indices)", list)
      .option("--filters <list>", "fields that may be filtered on", list, [])
      .requiredOption("--part <partNumber>", "the part the grant covers")
      .option("--plant <plant>", "restrict to one plant")
      .requiredOption("--k <n>", "minimum cohort: no answer over fewer records", positiveInt("--k"))
      .option("--valid-from <time>", "date, unix time or duration from now (default: at once)", "0")
      .option("--valid-until <time>", "date, unix time or duration from now", "90d")
      .option("--quota <n>", "maximum number of answers", positiveInt("--quota"), 100);

  type PolicyOpts = {
    aggregates: string[];
    fields: string[];
    filters: string[];
    part: string;
    plant?: string;
    k: number;
    validFrom: string;
    validUntil: string;
    quota: number;
  };
  const termsOf = (o: PolicyOpts) => ({
    validFrom: parseTime(o.validFrom),
    validUntil: parseTime(o.validUntil),
    quota: o.quota,
  });
  const assetSchema = async (s: ops.Session, assetId: bigint) => {
    const a = (await s.partProof.getFunction("getAsset")(assetId)) as { schemaId: string };
    return ops.schemaOf(a.schemaId);
  };

  policyOptions(
    supplier
      .command("grant")
      .description("grant a consumer access to an asset under a policy")
      .argument("<assetId>")
      .argument("<consumer>", "the consumer's address"),
  ).action(async (assetId: string, consumer: string, o: PolicyOpts) => {
    const s = await session();
    const id = bigId("assetId", assetId);
    const policy = ops.policyOf(await assetSchema(s, id), {
      ...o,
      partNumber: o.part,
      minCohort: o.k,
    });
    const r = await ops.grantAccess(s, await signer(s), id, consumer, policy, termsOf(o));
    print(r, `grant ${r.grantId} issued to ${consumer} (k = ${o.k}, quota ${o.quota}), tx ${r.tx}`);
  });

  for (const [name, action, desc] of [
    ["approve", "approve", "approve a consumer's grant request"],
    ["reject", "reject", "reject a consumer's grant request"],
    ["revoke", "revoke", "revoke a grant (effective in the same block)"],
  ] as const) {
    supplier
      .command(name)
      .description(desc)
      .argument("<grantId>")
      .action(async (grantId: string) => {
        const s = await session();
        const r = await ops.grantAction(s, await signer(s), action, bigId("grantId", grantId));
        print(r, `grant ${grantId}: ${action} done, tx ${r.tx}`);
      });
  }
  supplier
    .command("quota")
    .description("change a grant's query quota")
    .argument("<grantId>")
    .argument("<quota>")
    .action(async (grantId: string, quota: string) => {
      const s = await session();
      const r = await ops.grantAction(
        s,
        await signer(s),
        "quota",
        bigId("grantId", grantId),
        positiveInt("quota")(quota),
      );
      print(r, `grant ${grantId}: quota now ${quota}, tx ${r.tx}`);
    });
  supplier
    .command("expiry")
    .description("change a grant's end of validity")
    .argument("<grantId>")
    .argument("<time>", "date, unix time or duration from now")
    .action(async (grantId: string, time: string) => {
      const s = await session();
      const t = parseTime(time);
      const r = await ops.grantAction(s, await signer(s), "expiry", bigId("grantId", grantId), t);
      print(r, `grant ${grantId}: valid until ${new Date(t * 1000).toISOString()}, tx ${r.tx}`);
    });

  supplier
    .command("asked")
    .description("who asked what of your assets (the on-chain access log)")
    .option("--from-block <n>", "first block", "0")
    .action(async (o: { fromBlock: string }) => {
      const s = await session();
      const me = (await (await signer(s)).getAddress()).toLowerCase();
      const log = await readChainLog(
        s.provider,
        s.deployment.partProof,
        s.abi,
        Number(o.fromBlock),
        "latest",
      );
      const assets = new Map<string, string>();
      for (const gr of log.grants)
        if ("assetId" in gr) assets.set(gr.grantId.toString(), gr.assetId.toString());
      const owners = new Map<string, string>(); // asset id → owner, read once per asset
      const ownerOf = async (assetId: string) => {
        let owner = owners.get(assetId);
        if (owner === undefined) {
          const asset = (await s.partProof.getFunction("getAsset")(BigInt(assetId))) as {
            owner: string;
          };
          owners.set(assetId, (owner = asset.owner.toLowerCase()));
        }
        return owner;
      };
      const rows = [];
      for (const a of log.answers) {
        const assetId = assets.get(a.grantId.toString());
        if (!assetId || (await ownerOf(assetId)) !== me) continue;
        rows.push({
          block: a.block,
          assetId,
          grantId: a.grantId,
          consumer: a.consumer,
          requestId: a.requestId,
          queryHash: a.queryHash,
        });
      }
      print(
        rows,
        rows.length === 0
          ? "no answers logged for your assets"
          : rows.map(
              (r) =>
                `block ${r.block}: asset ${r.assetId}, grant ${r.grantId}, ${r.consumer} asked ${r.requestId.slice(0, 10)}…`,
            ),
      );
    });

  // ------------------------------------------------------------ automaker
  const automaker = program
    .command("automaker")
    .description("discover assets, ask questions, verify answers");

  automaker
    .command("assets")
    .description("list the gateway's assets (what the chain says and the schema description)")
    .action(async () => {
      const s = await session();
      const r = await ops.listAssets(s);
      print(
        r,
        r.assets.map(
          (a) =>
            `asset ${String(a.assetId)}: ${String((a as { schemaId?: string }).schemaId ?? "")} owner ${String((a as { owner?: string }).owner ?? "")}`,
        ),
      );
    });

  policyOptions(
    automaker
      .command("request-grant")
      .description("ask an asset's owner for a grant")
      .argument("<assetId>"),
  ).action(async (assetId: string, o: PolicyOpts) => {
    const s = await session();
    const id = bigId("assetId", assetId);
    const policy = ops.policyOf(await assetSchema(s, id), {
      ...o,
      partNumber: o.part,
      minCohort: o.k,
    });
    const r = await ops.requestGrant(s, await signer(s), id, policy, termsOf(o));
    print(r, `grant ${r.grantId} requested; the owner approves or rejects it, tx ${r.tx}`);
  });

  automaker
    .command("query")
    .description("ask an aggregate question, wait for the proved and logged answer, and verify it")
    .requiredOption("--asset <id>")
    .requiredOption("--grant <id>")
    .option("--version <id>", "version id (default: the latest)", "0")
    .requiredOption("--aggregate <name>", "count, sum, avg, min, max, ratio, threshold")
    .option("--field <name>", "field to aggregate (ratio: the numerator)", "0")
    .option("--of <name>", "ratio/threshold denominator field")
    .requiredOption("--part <partNumber>")
    .option("--plant <plant>")
    .option("--from <date>", "first production date (needs --plant)")
    .option("--to <date>", "last production date (needs --plant)")
    .option("--threshold <ppm>", "threshold: is the ratio in PPM at most this?")
    .option("--no-wait", "return the job id at once")
    .action(
      async (o: {
        asset: string;
        grant: string;
        version: string;
        aggregate: string;
        field: string;
        of?: string;
        part: string;
        plant?: string;
        from?: string;
        to?: string;
        threshold?: string;
        wait: boolean;
      }) => {
        const s = await session();
        const assetId = bigId("--asset", o.asset);
        const schema = await assetSchema(s, assetId);
        const job = await ops.ask(s, await signer(s), schema, {
          grantId: bigId("--grant", o.grant),
          assetId,
          versionId: bigId("--version", o.version),
          aggregate: o.aggregate,
          fieldA: o.field,
          fieldB: o.of,
          partNumber: o.part,
          plant: o.plant,
          from: o.from,
          to: o.to,
          threshold: o.threshold === undefined ? undefined : bigId("--threshold", o.threshold),
        });
        if (!o.wait) {
          print(job, `job ${job.jobId} accepted (request ${job.requestId})`);
          return;
        }
        progress(`job ${job.jobId} accepted; waiting for the proof …`);
        const done = await ops.waitJob(s, job.jobId, { onStatus: (st) => progress(`  ${st}`) });
        const check = await ops.verifyAnswer(s, done);
        print({ job: done, check }, [describeAnswer(done, o.aggregate), describeCheck(check)]);
      },
    );

  automaker
    .command("verify")
    .description("verify a job's answer: proof (snarkjs), commitment, root on-chain, log entry")
    .argument("<jobId>")
    .action(async (jobId: string) => {
      const s = await session();
      const job = await ops.waitJob(s, jobId, { until: "proved", timeoutMs: 1 });
      const check = await ops.verifyAnswer(s, job);
      print(check, describeCheck(check));
    });

  // ------------------------------------------------------------ auditor
  const auditor = program.command("auditor").description("reconcile the on-chain access log");
  auditor
    .command("report")
    .description(
      "re-verify every logged proof, reconcile grants, quotas and versions, and match a gateway's export",
    )
    .option("--from-block <n>", "first block (default: the deployment block)")
    .option("--to-block <n>", "last block (default: latest)")
    .option(
      "--export <file>",
      "a gateway's export of served answers (default: fetch it from --gateway, signed with your key)",
    )
    .option("--out <dir>", "where to write report.md and report.json", "reports")
    .action(async (o: { fromBlock?: string; toBlock?: string; export?: string; out: string }) => {
      const s = await session();
      const exp = o.export
        ? await ops.readExport(s, { file: o.export })
        : s.gatewayUrl
          ? await ops.readExport(s, { auditor: await signer(s) })
          : undefined;
      const served = exp ? ops.servedAnswers(exp) : undefined;
      progress("re-verifying every logged proof …");
      const report = await ops.audit(s, {
        fromBlock: o.fromBlock === undefined ? undefined : Number(o.fromBlock),
        toBlock: o.toBlock === undefined ? "latest" : Number(o.toBlock),
        served,
      });
      await mkdir(o.out, { recursive: true });
      const md = path.join(o.out, "report.md");
      const js = path.join(o.out, "report.json");
      await writeFile(md, renderMarkdown(report));
      await writeFile(js, JSON.stringify(report, jsonReplacer, 2) + "\n");
      print(report, [
        `${report.counts.logEntries} log entries, ${report.counts.proofsVerified} proofs re-verified, ${report.counts.anomalies} anomalies`,
        ...report.anomalies.map((a) => `  ${a.type}: ${a.detail}`),
        `report: ${md}, ${js}`,
      ]);
    });

  return program;
}

/** One line describing an answer in plain words. */
export function describeAnswer(job: ops.JobView, aggregate: string): string {
  const a = (job.answer ?? {}) as Record<string, string>;
  const v = a.resultValue ?? "?";
  const aux = a.resultAux ?? "?";
  switch (aggregate.toLowerCase()) {
    case "count":
      return `answer: ${v} records`;
    case "sum":
      return `answer: sum ${v} over ${aux} records`;
    case "avg":
      return `answer: average ${Number(aux) > 0 ? (Number(v) / Number(aux)).toFixed(3) : "n/a"} (${v} / ${aux} records)`;
    case "min":
    case "max":
      return `answer: ${aggregate} ${v} over ${aux} records`;
    case "ratio":
      return `answer: ${v} PPM`;
    case "threshold":
      return `answer: ${v === "1" ? "yes" : "no"} (only this bit is revealed)`;
    default:
      return `answer: ${v} (${aux})`;
  }
}

/** One line describing what was verified. */
export function describeCheck(c: ops.AnswerCheck): string {
  const mark = (b: boolean) => (b ? "ok" : "FAILED");
  return `verified: proof ${mark(c.proofValid)}, answer opens the commitment ${mark(c.commitmentOpens)}, root on-chain ${mark(c.rootRegistered)}, logged ${mark(c.loggedOnChain && c.logMatches)}`;
}

/** Runs the CLI with argv; returns the exit code. */
export async function runCli(
  argv: string[],
  io: Io,
  overrides: { session?: ops.Session } = {},
): Promise<number> {
  const program = buildProgram(io, overrides);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    const code = (e as { exitCode?: number; code?: string }).exitCode;
    if (typeof code === "number" && (e as { code?: string }).code?.startsWith("commander."))
      return code;
    io.err(`error: ${(e as Error).message}`);
    return e instanceof ops.UserError || (e as Error).name === "KeyError" ? 2 : 1;
  }
}

const isMain =
  process.argv[1] &&
  path.resolve(process.argv[1]).replace(/\.ts$/, "") ===
    path.resolve(import.meta.filename ?? "").replace(/\.ts$/, "");
if (isMain) {
  const code = await runCli(process.argv.slice(2), {
    out: (l) => console.log(l),
    err: (l) => console.error(l),
  });
  await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
  process.exit(code);
}
