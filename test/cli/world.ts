/**
 * A running PartProof world for CLI tests: PartProof deployed on a fresh in-process Hardhat
 * chain, a real gateway (port 0, LevelDB in a temp folder) with the range_d4 circuit, a CLI
 * session, and one supplier asset of generated quality records published through the CLI with a
 * grant to the automaker. The CLI signs with dev keys from env vars `<PREFIX>_SUPPLIER_KEY` and
 * `<PREFIX>_AUTOMAKER_KEY`; those and PARTPROOF_DATA_DIR are restored by `close()`.
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { network } from "hardhat";
import { runCli } from "../../cli/partproof.js";
import { openSession, type Session } from "../../cli/session.js";
import { DEMO_SUPPLIERS, generateQuality, toCatenaX } from "../../scripts/lib/demo-data.js";
import { devAccount } from "../../scripts/lib/processes.js";
import { deploy, gateway } from "../gateway/helpers.js";
import { setEnv } from "../support.js";

/** The supplier of the world: the first demo supplier with its first part only. */
export const SUPPLIER = { ...DEMO_SUPPLIERS[0]!, parts: [DEMO_SUPPLIERS[0]!.parts[0]!] };
/** Its part number and first plant. */
export const PART = SUPPLIER.parts[0]!.partNumber;
export const PLANT = SUPPLIER.plants[0]!.plantIdentifier;

/** What one CLI run printed and returned. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A started world; `close()` stops the gateway, restores env and removes the temp folder. */
export interface CliWorld {
  session: Session;
  gw: Awaited<ReturnType<typeof gateway>>;
  work: string;
  assetId: string;
  grantId: string;
  cli(role: "supplier" | "automaker", ...argv: string[]): Promise<CliRun>;
  /** `automaker query` on the world's asset, grant, part and plant, plus `q`. */
  ask(...q: string[]): Promise<CliRun>;
  close(): Promise<void>;
}

/**
 * Starts a world: 7 days × 2 plants × 1 record of quality data (seeded by `seed`), granted to
 * the automaker (dev account 3) for `aggregates` over quantity and reworked with k = 2, quota 10.
 */
export async function startCliWorld(opts: {
  envPrefix: string;
  seed: string;
  aggregates: string;
}): Promise<CliWorld> {
  const conn = await network.create();
  const { ethers } = conn;
  const work = await mkdtemp(path.join(tmpdir(), "partproof-cli-world-"));
  const restoreEnv = setEnv({
    [`${opts.envPrefix}_SUPPLIER_KEY`]: devAccount(1).privateKey,
    [`${opts.envPrefix}_AUTOMAKER_KEY`]: devAccount(3).privateKey,
    // the automaker's CLI keeps what it signed per job here (cli/signed-queries.ts)
    PARTPROOF_DATA_DIR: path.join(work, "data"),
  });
  const partProof = await deploy(conn as never);
  const gw = await gateway(ethers, await partProof.getAddress(), (await ethers.getSigners())[5]!, {
    over: { bodyLimitBytes: 1024 * 1024 },
  });
  const session = await openSession({
    provider: ethers.provider,
    deployment: {
      chainId: 31337,
      partProof: await partProof.getAddress(),
      deploymentBlock: 0,
      verifiers: {},
    },
    gatewayUrl: gw.url,
  });
  const cli = async (role: "supplier" | "automaker", ...argv: string[]): Promise<CliRun> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(
      ["--json", "--key-env", `${opts.envPrefix}_${role.toUpperCase()}_KEY`, ...argv],
      { out: (l) => out.push(l), err: (l) => err.push(l) },
      { session },
    );
    return {
      code,
      out: out.join("\n"),
      err: err.join("\n"),
      json: () => JSON.parse(out.join("\n")),
    };
  };
  const rows = generateQuality(SUPPLIER, {
    from: "2026-07-01",
    days: 7,
    perDay: [1, 1],
    seed: opts.seed,
  });
  const file = path.join(work, "quality.json");
  await writeFile(file, JSON.stringify(toCatenaX(SUPPLIER, rows)));
  const reg = await cli(
    "supplier",
    "supplier",
    "register",
    "--schema",
    "quality",
    "--endpoint",
    gw.url,
  );
  expect(reg.code, reg.err).to.equal(0);
  const assetId = String(reg.json().assetId);
  const up = await cli("supplier", "supplier", "upload", assetId, file);
  expect(up.code, up.err).to.equal(0);
  const g = await cli(
    "supplier",
    "supplier",
    "grant",
    assetId,
    devAccount(3).address,
    "--aggregates",
    opts.aggregates,
    "--fields",
    "quantity,reworked",
    "--part",
    PART,
    "--k",
    "2",
    "--quota",
    "10",
    "--valid-until",
    "30d",
  );
  expect(g.code, g.err).to.equal(0);
  const grantId = String(g.json().grantId);
  const ask = (...q: string[]) =>
    cli(
      "automaker",
      "automaker",
      "query",
      "--asset",
      assetId,
      "--grant",
      grantId,
      "--part",
      PART,
      "--plant",
      PLANT,
      ...q,
    );
  return {
    session,
    gw,
    work,
    assetId,
    grantId,
    cli,
    ask,
    async close() {
      await gw.close();
      restoreEnv();
      await rm(work, { recursive: true, force: true });
    },
  };
}
