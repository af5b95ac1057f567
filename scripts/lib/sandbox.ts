/**
 * The local playground the demo and `npm run sandbox` share: a Hardhat node, PartProof deployed,
 * one gateway per demo supplier (in this process), the demo roles' development keys, and what a
 * newcomer needs to keep playing with the `partproof` command once the story is over: an env
 * file and a few commands to paste.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { HDNodeWallet } from "ethers";
import pino from "pino";
import { startServer, type RunningGateway } from "../../gateway/app.js";
import { openSession, type Deployment, type Session } from "../../cli/session.js";
import * as supplierCli from "../../cli/supplier.js";
import { ROOT, readManifest } from "./circuit-build.js";
import { seconds } from "./demo-clock.js";
import { DEMO_CHECK_LEAVES, depthOf } from "./demo-build.js";
import { DEMO_SUPPLIERS, generateQuality, toCatenaX } from "./demo-data.js";
import { devAccount, runCommand, startHardhatNode, type LocalNode } from "./processes.js";

// what the demo needs before the contracts' bindings exist lives in demo-build.ts; its users
// import it from here as before
export {
  buildFor,
  DEMO_CHECK_LEAVES,
  depthOf,
  untilStopped,
  type BuildTimes,
} from "./demo-build.js";

/** The demo's roles: Hardhat's public development accounts (never use them on a real chain). */
export function demoRoles(): {
  suppliers: HDNodeWallet[];
  automaker: HDNodeWallet;
  auditor: HDNodeWallet;
  relayers: HDNodeWallet[];
  deployer: HDNodeWallet;
} {
  return {
    deployer: devAccount(0),
    suppliers: [devAccount(1), devAccount(2)],
    automaker: devAccount(3),
    auditor: devAccount(4),
    relayers: [devAccount(5), devAccount(6)],
  };
}

/** A running playground. */
export interface Playground {
  node: LocalNode;
  deployment: Deployment;
  deploymentFile: string;
  /** One gateway per entry of DEMO_SUPPLIERS, in that order. */
  gateways: RunningGateway[];
  dir: string;
  /**
   * Restarts gateway `i` on its port and data folder, its relayer on or off (tests: an answer
   * proved while the relayer is off is never logged, and the auditor must flag it). Returns it.
   */
  restartGateway(i: number, opts: { relayer: boolean }): Promise<RunningGateway>;
  /** Stops the gateways and the chain (idempotent). */
  close(): Promise<void>;
}

/**
 * Empties `dir` for a new playground: refuses a folder that holds anything but an earlier
 * playground (whose env file marks it), so a mistyped --dir never deletes someone's files.
 */
export async function preparePlaygroundDir(dir: string): Promise<void> {
  if (existsSync(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes(ENV_FILE)) {
      throw new Error(
        `${dir} is not empty and holds no earlier sandbox (${ENV_FILE}); pick another --dir`,
      );
    }
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
}

/** Starts the chain, deploys PartProof and starts one gateway per demo supplier. */
export async function startPlayground(opts: {
  circuit: string;
  dir: string;
  /** Circuit targets whose verifiers are deployed (default: the circuit's own target). */
  targets?: string;
  /** Browser origins the gateways allow (CORS), e.g. the console's; default none. */
  corsOrigins?: string[];
  /**
   * A chain started earlier (the demo starts it while it builds: the node needs no build
   * output); default: a Hardhat node started here. The playground stops it when it closes.
   */
  node?: Promise<LocalNode>;
  say: (line: string) => void;
}): Promise<Playground> {
  const { circuit, dir, say } = opts;
  const roles = demoRoles();
  const entry = (await readManifest()).find((c) => c.name === circuit);
  if (!entry) throw new Error(`circuit ${circuit} is not in circuits/circuits.json`);
  let t = Date.now();
  const node = await (opts.node ?? startHardhatNode());
  const gateways: RunningGateway[] = [];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const g of gateways.splice(0)) await g.close().catch(() => {});
      await node.stop().catch(() => {});
    })());
  try {
    say(
      `chain at ${node.url} (${opts.node ? "started during the build; waited" : "started in"} ${seconds(Date.now() - t)})`,
    );
    t = Date.now();
    const deploymentFile = path.join(dir, "deployment.json");
    await runCommand(
      "tsx",
      [
        "scripts/deploy.ts",
        "--network",
        node.url,
        "--out",
        deploymentFile,
        "--targets",
        opts.targets ?? entry.target,
      ],
      { env: { PARTPROOF_DEPLOYER_KEY: roles.deployer.privateKey } },
    );
    const deployment = JSON.parse(await readFile(deploymentFile, "utf8")) as Deployment;
    say(
      `PartProof at ${deployment.partProof}; verifiers: ${Object.keys(deployment.verifiers).join(", ")} ` +
        `(compiled what changed and deployed in ${seconds(Date.now() - t)})`,
    );
    t = Date.now();
    if (!deployment.verifiers[circuit]) throw new Error(`no verifier for ${circuit} was deployed`);

    const logFile = path.join(dir, "gateway.log");
    // one relayer key per gateway (two gateways sending from one key would race for its nonces)
    DEMO_SUPPLIERS.forEach((_, i) => {
      process.env[`PARTPROOF_DEMO_RELAYER_KEY_${i}`] = roles.relayers[i]!.privateKey;
    });
    const startGateway = (i: number, port: number, relayer: boolean) =>
      startServer(
        {
          port,
          dataDir: path.join(dir, `gateway-${i}`),
          chain: { rpcUrl: node.url, confirmations: 1 },
          contracts: { partProof: deployment.partProof },
          relayerKey: { source: "env", name: `PARTPROOF_DEMO_RELAYER_KEY_${i}` },
          circuit: {
            name: circuit,
            depth: depthOf(circuit),
            artifactsDir: path.join("circuits", "build", circuit),
          },
          bodyLimitBytes: 32 * 1024 * 1024,
          auditors: [roles.auditor.address],
          corsOrigins: opts.corsOrigins ?? [],
          logLevel: "info",
          ...(relayer ? {} : { relayer: { enabled: false } }),
        },
        { logStream: pino.destination({ dest: logFile, append: true, sync: true }) },
      );
    // both at once (each opens its store, reads the chain and loads its keys)
    const started = await Promise.allSettled(
      DEMO_SUPPLIERS.map((_, i) => startGateway(i, 0, true)),
    );
    for (const r of started) if (r.status === "fulfilled") gateways.push(r.value);
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    for (const [i, s] of DEMO_SUPPLIERS.entries())
      say(`${s.name}'s gateway at ${gateways[i]!.url}`);
    say(`gateways started in ${seconds(Date.now() - t)}`);
    const restartGateway = async (i: number, o: { relayer: boolean }) => {
      const old = gateways[i];
      if (!old) throw new Error(`no gateway ${i} to restart`);
      await old.close();
      const g = await startGateway(i, old.port, o.relayer);
      gateways[i] = g;
      say(
        `${DEMO_SUPPLIERS[i]!.name}'s gateway restarted at ${g.url}, relayer ${o.relayer ? "on" : "off"}`,
      );
      return g;
    };
    return { node, deployment, deploymentFile, gateways, dir, restartGateway, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The env file's name inside the playground folder. */
export const ENV_FILE = "sandbox.env";

/** Shell variable names the env file defines (the printed commands use them). */
export const ENV = {
  automakerKey: "PARTPROOF_DEV_AUTOMAKER_KEY",
  automakerAddress: "PARTPROOF_DEV_AUTOMAKER_ADDRESS",
  auditorKey: "PARTPROOF_DEV_AUDITOR_KEY",
  supplierKeys: ["PARTPROOF_DEV_GEARWORKS_KEY", "PARTPROOF_DEV_BRAKELINE_KEY"],
  gateways: ["PARTPROOF_GATEWAY_GEARWORKS", "PARTPROOF_GATEWAY_BRAKELINE"],
} as const;

/**
 * Writes the playground's env file: the chain, the deployment, each gateway and the demo roles'
 * keys, clearly marked as development keys. Returns its path.
 */
export async function writeEnvFile(p: Playground): Promise<string> {
  const roles = demoRoles();
  const file = path.join(p.dir, ENV_FILE);
  const q = (v: string) => `'${v}'`;
  const lines = [
    `# PartProof sandbox, written ${new Date().toISOString()}. Load it with: . ${displayPath(file)}`,
    `# Valid while \`npm run sandbox\` (or \`npm run demo -- --keep\`) runs; Ctrl-C there stops it.`,
    `export PARTPROOF_RPC_URL=${q(p.node.url)}`,
    `export PARTPROOF_DEPLOYMENT=${q(p.deploymentFile)}`,
    `# the gateway partproof talks to unless --gateway says otherwise: ${DEMO_SUPPLIERS[0]!.name}'s`,
    `export PARTPROOF_GATEWAY=${q(p.gateways[0]!.url)}`,
    ...DEMO_SUPPLIERS.map(
      (s, i) => `export ${ENV.gateways[i]}=${q(p.gateways[i]!.url)}   # ${s.name}`,
    ),
    "",
    '# DEVELOPMENT KEYS ONLY: Hardhat\'s public test mnemonic ("test test … junk"). Everyone',
    "# knows them; anything sent to these addresses on a real chain is taken at once.",
    ...DEMO_SUPPLIERS.map(
      (s, i) =>
        `export ${ENV.supplierKeys[i]}=${q(roles.suppliers[i]!.privateKey)}   # DEVELOPMENT key of ${s.name} (supplier, ${roles.suppliers[i]!.address})`,
    ),
    `export ${ENV.automakerKey}=${q(roles.automaker.privateKey)}   # DEVELOPMENT key of the automaker`,
    `export ${ENV.automakerAddress}=${q(roles.automaker.address)}`,
    `export ${ENV.auditorKey}=${q(roles.auditor.privateKey)}   # DEVELOPMENT key of the auditor (${roles.auditor.address})`,
    "",
  ];
  await writeFile(file, lines.join("\n"), { mode: 0o600 });
  return file;
}

/** A path as a newcomer in the checkout would type it: relative inside the checkout. */
function displayPath(file: string): string {
  const rel = path.relative(ROOT, file);
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
}

/** What the newcomer's commands ask and grant. */
export interface NewcomerPlan {
  /** The automaker's question: on a grant it holds. */
  ask: { supplier: number; assetId: bigint; grantId: bigint; question: string[] };
  /** The supplier's new grant to the automaker. */
  grant: { supplier: number; assetId: bigint; policy: string[] };
}

/** The commands a newcomer pastes (the first loads the env file), one per line. */
export function newcomerCommands(envFile: string, plan: NewcomerPlan): string[] {
  const pp = (keyVar: string, ...words: string[]) =>
    `npx partproof --key-env ${keyVar} ${words.join(" ")}`;
  const gw = (i: number) => (i === 0 ? [] : [`--gateway $${ENV.gateways[i]}`]);
  return [
    `. ${displayPath(envFile)}`,
    pp(
      ENV.automakerKey,
      ...gw(plan.ask.supplier),
      "automaker query",
      `--asset ${plan.ask.assetId} --grant ${plan.ask.grantId}`,
      ...plan.ask.question,
    ),
    pp(
      ENV.supplierKeys[plan.grant.supplier]!,
      ...gw(plan.grant.supplier),
      `supplier grant ${plan.grant.assetId} $${ENV.automakerAddress}`,
      ...plan.grant.policy,
    ),
    pp(ENV.auditorKey, "auditor report --out reports/sandbox"),
  ];
}

/**
 * The commands `npm run sandbox` prints: the automaker asks about the part of its grant, the
 * supplier grants another part, the auditor reports. A production-size circuit holds six months
 * of data, so the question narrows to one plant and quarter; a test circuit's 16 records do not.
 */
export function sandboxCommands(
  envFile: string,
  o: { circuit: string; assetId: bigint; grantId: bigint },
): string[] {
  const size = dataSizeFor(o.circuit);
  return newcomerCommands(envFile, {
    ask: {
      supplier: 0,
      assetId: o.assetId,
      grantId: o.grantId,
      question: [
        "--aggregate ratio --field reworked --of quantity --part GBX-3232455",
        ...(size.days >= 183 ? ["--plant 4711 --from 2026-07-01 --to 2026-09-30"] : []),
      ],
    },
    grant: {
      supplier: 0,
      assetId: o.assetId,
      policy: [
        `--aggregates count,sum,ratio --fields quantity,reworked --part CLU-0099812 --k ${size.k}`,
      ],
    },
  });
}

/** The lines printed after the playground is up: the env file and the commands. */
export function newcomerText(envFile: string, commands: string[]): string[] {
  return [
    "",
    `The chain and the gateways keep running. The env file ${displayPath(envFile)} holds their`,
    "addresses and the demo roles' DEVELOPMENT keys. Try it yourself, from this folder in",
    "another terminal (ask as the automaker, grant as the supplier, audit as the auditor):",
    "",
    ...commands.map((c) => `    ${c}`),
    "",
    "Ctrl-C here stops the chain and the gateways.",
  ];
}

/** How much data each demo supplier publishes: all of it fits the circuit's tree. */
export interface DataSize {
  days: number;
  perDay: [number, number];
  /** The cohort floor k of the grants (every demo question has at least that many records). */
  k: number;
}

/** Six months of 1–3 parts a day on a production-size tree; two days of one a day on a test tree. */
export function dataSizeFor(circuit: string): DataSize {
  const capacity = 2 ** depthOf(circuit);
  const mostCombos = Math.max(...DEMO_SUPPLIERS.map((s) => s.parts.length * s.plants.length));
  if (capacity >= 183 * 3 * mostCombos) return { days: 183, perDay: [1, 3], k: 25 };
  return { days: Math.max(1, Math.floor(capacity / mostCombos)), perDay: [1, 1], k: 2 };
}

/** A published demo asset. */
export interface PublishedAsset {
  assetId: bigint;
  versionId: bigint;
  recordCount: number;
  root: string;
}

/**
 * Each demo supplier registers a quality asset on its own gateway, uploads its generated
 * Catena-X data and publishes the version through the gateway's relayer; the suppliers do so at
 * the same time, each on its own gateway. Returns the assets in the order of DEMO_SUPPLIERS.
 */
export async function publishDemoData(
  p: Playground,
  sessions: Session[],
  size: Pick<DataSize, "days" | "perDay">,
  checkLeaves = DEMO_CHECK_LEAVES,
): Promise<PublishedAsset[]> {
  const roles = demoRoles();
  const owners = DEMO_SUPPLIERS.map((_, i) => roles.suppliers[i]!.connect(p.node.provider));
  // registered one after the other, so asset ids follow DEMO_SUPPLIERS (Gearworks' is 1 on a
  // fresh chain, as the README's commands say)
  const assetIds: bigint[] = [];
  for (const [i, sup] of DEMO_SUPPLIERS.entries()) {
    const { assetId } = await supplierCli.registerAsset(sessions[i]!, owners[i]!, {
      schema: "quality",
      endpoint: p.gateways[i]!.url,
      metadata: `${sup.name} manufactured-parts quality`,
    });
    assetIds.push(assetId);
  }
  return Promise.all(
    DEMO_SUPPLIERS.map(async (sup, i) => {
      const s = sessions[i]!;
      const owner = owners[i]!;
      const assetId = assetIds[i]!;
      const rows = generateQuality(sup, {
        from: "2026-04-01",
        days: size.days,
        perDay: size.perDay,
      });
      const up = await supplierCli.upload(s, owner, assetId, {
        format: "catenax",
        payload: toCatenaX(sup, rows),
      });
      const pub = await supplierCli.publishViaGateway(s, owner, up.version, undefined, checkLeaves);
      return {
        assetId,
        versionId: pub.versionId,
        recordCount: up.version.recordCount,
        root: up.version.root,
      };
    }),
  );
}

/** A session per gateway of the playground. */
export function sessionsOf(p: Playground): Promise<Session[]> {
  return Promise.all(
    p.gateways.map((g) =>
      openSession({ provider: p.node.provider, deployment: p.deployment, gatewayUrl: g.url }),
    ),
  );
}
