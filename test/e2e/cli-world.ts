/**
 * A world for end-to-end tests through the `partproof` CLI: Hardhat's in-process chain with the
 * real verifiers, one real gateway per supplier (port 0, LevelDB in a temp folder, its own
 * relayer account), a CLI session per gateway, and the keys of the suppliers and the automaker in
 * environment variables named after the test (`<PREFIX>_SUPPLIER<i>_KEY`, `<PREFIX>_AUTOMAKER_KEY`),
 * restored by `close()`. (test/cli/world.ts is the one-gateway world with its own quality asset.)
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { network } from "hardhat";
import { runCli } from "../../cli/partproof.js";
import { openSession, type Session } from "../../cli/session.js";
import { devAccount } from "../../scripts/lib/processes.js";
import type { CliRun } from "../cli/world.js";
import { deploy, gateway } from "../gateway/helpers.js";
import { setEnv } from "../support.js";

/** The chain, gateways and sessions of a test, and the CLI as each party. */
export interface CliWorld {
  /** The automaker's address (dev account 3). */
  automaker: string;
  sessions: Session[];
  gateways: Awaited<ReturnType<typeof gateway>>[];
  /** A temp folder (removed by close). */
  work: string;
  /** Runs the CLI (`--json`) as the automaker or as supplier i, through a session. */
  cli(who: "automaker" | number, session: Session, ...argv: string[]): Promise<CliRun>;
  /**
   * Supplier i registers an asset of `schema` at its gateway, uploads `rows` (JSON) and grants
   * the automaker with `grantArgs` (policy, part, k, …); returns the asset and grant ids.
   */
  publish(
    i: number,
    schema: string,
    rows: unknown[],
    grantArgs: string[],
  ): Promise<{ assetId: string; grantId: string }>;
  close(): Promise<void>;
}

const SUPPLIER_ACCOUNTS = [1, 2, 6];
const RELAYER_ACCOUNTS = [5, 7, 8];

/** Deploys, starts `gatewayCount` (≤ 3) gateways and opens a session on each. */
export async function startCliWorld(prefix: string, gatewayCount: number): Promise<CliWorld> {
  const conn = await network.create();
  const { ethers } = conn;
  const work = await mkdtemp(path.join(tmpdir(), `partproof-${prefix.toLowerCase()}-`));
  const restoreEnv = setEnv({
    ...Object.fromEntries(
      SUPPLIER_ACCOUNTS.map((a, i) => [`${prefix}_SUPPLIER${i}_KEY`, devAccount(a).privateKey]),
    ),
    [`${prefix}_AUTOMAKER_KEY`]: devAccount(3).privateKey,
    // the automaker's CLI keeps what it signed per job here (cli/signed-queries.ts)
    PARTPROOF_DATA_DIR: path.join(work, "data"),
  });
  const partProof = await deploy(conn as never);
  const signers = await ethers.getSigners();
  const gateways: Awaited<ReturnType<typeof gateway>>[] = [];
  for (const r of RELAYER_ACCOUNTS.slice(0, gatewayCount)) {
    gateways.push(await gateway(ethers, await partProof.getAddress(), signers[r]!));
  }
  const sessions = await Promise.all(
    gateways.map(async (gw) =>
      openSession({
        provider: ethers.provider,
        deployment: {
          chainId: 31337,
          partProof: await partProof.getAddress(),
          deploymentBlock: 0,
          verifiers: {},
        },
        gatewayUrl: gw.url,
      }),
    ),
  );
  let uploads = 0;

  const cli = async (who: "automaker" | number, session: Session, ...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const env = who === "automaker" ? `${prefix}_AUTOMAKER_KEY` : `${prefix}_SUPPLIER${who}_KEY`;
    const code = await runCli(
      ["--json", "--key-env", env, ...argv],
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

  const publish = async (i: number, schema: string, rows: unknown[], grantArgs: string[]) => {
    const s = sessions[i]!;
    const reg = await cli(
      i,
      s,
      "supplier",
      "register",
      "--schema",
      schema,
      "--endpoint",
      gateways[i]!.url,
    );
    expect(reg.code, reg.err).to.equal(0);
    const assetId = String(reg.json().assetId);
    const file = path.join(work, `upload-${++uploads}.json`);
    await writeFile(file, JSON.stringify(rows));
    const up = await cli(i, s, "supplier", "upload", assetId, file);
    expect(up.code, up.err).to.equal(0);
    expect(up.json().version.recordCount).to.equal(rows.length);
    const g = await cli(i, s, "supplier", "grant", assetId, devAccount(3).address, ...grantArgs);
    expect(g.code, g.err).to.equal(0);
    return { assetId, grantId: String(g.json().grantId) };
  };

  return {
    automaker: devAccount(3).address,
    sessions,
    gateways,
    work,
    cli,
    publish,
    async close() {
      for (const gw of gateways.splice(0)) await gw.close();
      restoreEnv();
      await rm(work, { recursive: true, force: true });
    },
  };
}
