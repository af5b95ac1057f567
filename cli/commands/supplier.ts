/**
 * `partproof supplier …`: register, upload, versions, records, publish, grant, approve, reject, revoke, quota,
 * expiry, asked. Each command parses its options and calls the supplier's operations
 * (cli/supplier.ts).
 */
import { Option, type Command } from "commander";
import { assetSchema, policyOf, schemaOf } from "../policy.js";
import * as supplier from "../supplier.js";
import {
  bigId,
  parseTime,
  policyInputOf,
  policyOptions,
  positiveInt,
  termsOf,
  type CommandContext,
  type PolicyOpts,
} from "./context.js";

/** Adds the `supplier` command group to the program. */
export function addSupplierCommands(program: Command, ctx: CommandContext): void {
  const group = program
    .command("supplier")
    .alias("publisher")
    .description("publish data and manage who may ask what (a publisher of its own data)");
  addRegister(group, ctx);
  addUpload(group, ctx);
  addViews(group, ctx);
  addPublish(group, ctx);
  addGrant(group, ctx);
  addGrantActions(group, ctx);
  addAsked(group, ctx);
}

function addRegister(group: Command, ctx: CommandContext) {
  group
    .command("register")
    .description("register a data asset on-chain")
    .requiredOption(
      "--schema <name>",
      "quality, delivery, pcf, stock, demand, capacity or claims (or the Catena-X aspect URN); a variant: …-by-day (key part, day, plant), quality-eol3, delivery-late, pcf-primary50 (indicator fields for filtered questions)",
    )
    .requiredOption("--endpoint <url>", "gateway URL consumers send queries to")
    .option("--metadata <text>", "public description (its hash goes on-chain; default: none)")
    .action(async (o: { schema: string; endpoint: string; metadata?: string }) => {
      const s = await ctx.session();
      const r = await supplier.registerAsset(s, await ctx.signer(s), o);
      ctx.print(r, `asset ${r.assetId} registered (${schemaOf(o.schema).id}), tx ${r.tx}`);
    });
}

function addUpload(group: Command, ctx: CommandContext) {
  group
    .command("upload")
    .description(
      "add records (a file, or a folder of JSON/CSV/Catena-X files: one upload) to the asset's data set as a new version and publish it",
    )
    .argument("<assetId>", "your asset (printed by `supplier register`)")
    .argument("<path>", "file or folder")
    .option("--replace", "start a new data set instead of adding to the latest version")
    .option("--no-publish", "only build the version at the gateway")
    .option("--direct", "publish from your own account instead of through the gateway's relayer")
    .option(
      "--check-leaves <n>",
      `random leaves the gateway must prove (besides the first and last link) before you sign (default ${supplier.SIGN_CHECK_SAMPLES})`,
      positiveInt("--check-leaves"),
    )
    .action(
      async (
        assetId: string,
        p: string,
        o: { publish: boolean; direct: boolean; replace?: boolean; checkLeaves?: number },
      ) => {
        const s = await ctx.session();
        const owner = await ctx.signer(s);
        const id = bigId("assetId", assetId);
        ctx.progress(`uploading ${p} …`);
        const up = await supplier.uploadPath(s, owner, id, p, {
          replace: o.replace ?? false,
          onProgress: (g) =>
            ctx.progress(
              `chunk ${g.chunk}/${g.chunkCount}${g.resumed ? ` (${g.resumed} held from before)` : ""} · ${g.records} records · ${g.mbPerSec.toFixed(2)} MB/s`,
            ),
          onCommitWaiting: (n) =>
            ctx.progress(`the gateway is still building the version (asked again, ${n}) …`),
        });
        const v = up.version;
        let published: { versionId: bigint; txHash: string } | undefined;
        if (o.publish && up.created) {
          published = o.direct
            ? await supplier.publishDirect(s, owner, v, o.checkLeaves)
            : await supplier.publishViaGateway(s, owner, v, undefined, o.checkLeaves);
        }
        const c = v.changes;
        ctx.print(
          {
            path: p,
            files: up.files,
            chunks: up.chunks,
            created: up.created,
            version: v,
            published,
          },
          `${p}: ${up.files.length} file(s) → ${up.created ? "new" : "existing"} version ${v.localId}: ${v.recordCount} records` +
            (c ? ` (+${c.added} added, ${c.replaced} replaced, ${c.removed} removed)` : "") +
            ` (root ${v.root.slice(0, 14)}…)` +
            (published ? `, published on-chain as version ${published.versionId}` : ""),
        );
      },
    );
}

function addViews(group: Command, ctx: CommandContext) {
  group
    .command("versions")
    .description("your asset's versions at the gateway: record counts and what each changed")
    .argument("<assetId>", "your asset")
    .action(async (assetId: string) => {
      const s = await ctx.session();
      const owner = await ctx.signer(s);
      const r = await supplier.versionsOf(s, owner, bigId("assetId", assetId));
      ctx.print(
        r,
        r.versions.length === 0
          ? "no versions yet"
          : r.versions.map(
              (v) =>
                `version ${v.localId}: ${v.recordCount} records, ${v.base ? `adds to version ${v.base}` : "new data set"}` +
                (v.changes
                  ? ` (+${v.changes.added} added, ${v.changes.replaced} replaced, ${v.changes.removed} removed)`
                  : "") +
                `, root ${v.root.slice(0, 14)}…, ${v.createdAt}`,
            ),
      );
    });
  group
    .command("records")
    .description("your own records at the gateway, page by page (no salts)")
    .argument("<assetId>", "your asset")
    .option("--version <localId>", "a local version (default: the latest)")
    .addOption(new Option("--offset <n>", "first record (0 = the first)").default("0", "the first"))
    .addOption(
      new Option("--limit <n>", "records per page (at most 10000)").default("100", "a hundred"),
    )
    .action(async (assetId: string, o: { version?: string; offset: string; limit: string }) => {
      const s = await ctx.session();
      const owner = await ctx.signer(s);
      const r = await supplier.recordsPage(s, owner, bigId("assetId", assetId), {
        ...(o.version === undefined ? {} : { localId: positiveInt("version")(o.version) }),
        offset: Number(o.offset),
        limit: positiveInt("limit")(o.limit),
      });
      const page = r.page ?? { offset: 0, limit: r.records.length, total: r.records.length };
      ctx.print(r, [
        `version ${r.version.localId}: records ${page.offset + 1}–${page.offset + r.records.length} of ${page.total}`,
        ...r.records.map(
          (x) =>
            `day ${x.day} part ${x.partCode} plant ${x.plantCode}: ${Object.entries(x.values)
              .map(([k, v]) => `${k}=${v}`)
              .join(" ")}`,
        ),
      ]);
    });
}

function addPublish(group: Command, ctx: CommandContext) {
  type PublishOpts = {
    checkLeaves?: number;
    root: string;
    records: string;
    depth: string;
    paramsHash: string;
    direct: boolean;
  };
  group
    .command("publish")
    .description("publish a version the gateway built (see `upload --no-publish`)")
    .argument("<assetId>", "your asset")
    .argument("<localId>", "the gateway's local version id (printed by `upload --no-publish`)")
    .requiredOption("--root <root>", "the version's commitment root")
    .requiredOption("--records <n>", "the version's record count")
    .requiredOption("--depth <d>", "the version's tree depth")
    .requiredOption("--params-hash <hash>", "the version's parameters hash")
    .option("--direct", "publish from your own account instead of through the gateway's relayer")
    .option(
      "--check-leaves <n>",
      `random leaves the gateway must prove (besides the first and last link) before you sign (default ${supplier.SIGN_CHECK_SAMPLES})`,
      positiveInt("--check-leaves"),
    )
    .action(async (assetId: string, localId: string, o: PublishOpts) => {
      const s = await ctx.session();
      // What publishing signs and routes by; the rest of a gateway's version is not known here.
      const v: supplier.LocalVersion = {
        assetId,
        localId: Number(localId),
        root: o.root,
        recordCount: Number(o.records),
        treeDepth: Number(o.depth),
        paramsHash: o.paramsHash,
        schemaId: "",
        batchHash: "",
        createdAt: "",
      };
      const owner = await ctx.signer(s);
      const r = o.direct
        ? await supplier.publishDirect(s, owner, v, o.checkLeaves)
        : await supplier.publishViaGateway(s, owner, v, undefined, o.checkLeaves);
      ctx.print(r, `published as version ${r.versionId}, tx ${r.txHash}`);
    });
}

function addGrant(group: Command, ctx: CommandContext) {
  policyOptions(
    group
      .command("grant")
      .description("grant a consumer access to an asset under a policy")
      .argument("<assetId>", "your asset")
      .argument("<consumer>", "the consumer's address"),
  ).action(async (assetId: string, consumer: string, o: PolicyOpts) => {
    const s = await ctx.session();
    const id = bigId("assetId", assetId);
    const policy = policyOf(await assetSchema(s, id), policyInputOf(o));
    const r = await supplier.grantAccess(s, await ctx.signer(s), id, consumer, policy, termsOf(o));
    ctx.print(
      r,
      `grant ${r.grantId} issued to ${consumer} (k = ${o.k}, quota ${o.quota}), tx ${r.tx}`,
    );
  });
}

function addGrantActions(group: Command, ctx: CommandContext) {
  for (const [action, desc] of [
    ["approve", "approve a consumer's grant request"],
    ["reject", "reject a consumer's grant request"],
    ["revoke", "revoke a grant (effective in the same block)"],
  ] as const) {
    group
      .command(action)
      .description(desc)
      .argument("<grantId>", "the grant")
      .action(async (grantId: string) => {
        const s = await ctx.session();
        const id = bigId("grantId", grantId);
        const r = await supplier.grantAction(s, await ctx.signer(s), action, id);
        ctx.print(r, `grant ${grantId}: ${action} done, tx ${r.tx}`);
      });
  }
  group
    .command("quota")
    .description("change a grant's query quota")
    .argument("<grantId>", "the grant")
    .argument("<quota>", "the new maximum number of answers")
    .action(async (grantId: string, quota: string) => {
      const s = await ctx.session();
      const q = positiveInt("quota")(quota);
      const r = await supplier.grantAction(
        s,
        await ctx.signer(s),
        "quota",
        bigId("grantId", grantId),
        q,
      );
      ctx.print(r, `grant ${grantId}: quota now ${quota}, tx ${r.tx}`);
    });
  group
    .command("expiry")
    .description("change a grant's end of validity")
    .argument("<grantId>", "the grant")
    .argument("<time>", "date, unix time or duration from now")
    .action(async (grantId: string, time: string) => {
      const s = await ctx.session();
      const t = parseTime(time);
      const r = await supplier.grantAction(
        s,
        await ctx.signer(s),
        "expiry",
        bigId("grantId", grantId),
        t,
      );
      ctx.print(r, `grant ${grantId}: valid until ${new Date(t * 1000).toISOString()}, tx ${r.tx}`);
    });
}

function addAsked(group: Command, ctx: CommandContext) {
  group
    .command("asked")
    .description("who asked what of your assets (the on-chain access log)")
    .addOption(new Option("--from-block <n>", "first block").default("0", "the first block"))
    .action(async (o: { fromBlock: string }) => {
      const s = await ctx.session();
      const me = await (await ctx.signer(s)).getAddress();
      const rows = await supplier.askedOf(s, me, Number(o.fromBlock));
      ctx.print(
        rows,
        rows.length === 0
          ? "no answers logged for your assets"
          : rows.map(
              (r) =>
                `block ${r.block}: asset ${r.assetId}, grant ${r.grantId}, ${r.consumer} asked ${r.requestId.slice(0, 10)}…`,
            ),
      );
    });
}
