/**
 * `gas` benchmark: gas of the main PartProof calls on Hardhat's in-process chain, with the
 * contracts deployed by the Ignition module (ignition/modules/PartProof.ts: PartProof and the
 * generated verifiers, registered) and recordAnswer carrying a real Groth16 proof of each
 * built range circuit.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
// @ts-expect-error snarkjs ships no type declarations
import * as snarkjs from "snarkjs";
import { circuitId } from "../../../circuits/lib/signals.js";
import { buildTree, randomSalt } from "../../../circuits/lib/tree.js";
import { rangeWitness } from "../../../circuits/lib/witness.js";
import { policyStruct } from "../../../protocol/contract.js";
import { signAnswerConsent } from "../../../protocol/typed-data.js";
import { circuitPaths, verifierName } from "../circuit-build.js";
import { ROOT, syntheticRecords, type Log } from "./common.js";
import { benchPolicy, benchQuery } from "./prove-input.js";

/** One measured call. */
export interface GasRow {
  /** Call, e.g. "recordAnswer (range_d20)". */
  call: string;
  /** Gas used by the transaction (receipt.gasUsed, includes the 21,000 base and calldata). */
  gasUsed: number;
  /** What the row measures. */
  note?: string;
}

/** Result of the `gas` benchmark. */
export interface GasBenchData {
  rows: GasRow[];
  /** Range circuits whose recordAnswer was measured with a real proof. */
  circuits: string[];
}

/** Options of {@link benchGas}. */
export interface GasBenchOptions {
  /** Largest tree depth of a circuit to prove with (a depth-20 proof takes seconds). */
  maxDepth: number;
}

function depthOf(name: string): number | undefined {
  const m = /_d(\d+)(?:_|$)/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Runs `hardhat build` (compiles the contracts and generated verifiers when changed). */
export function hardhatBuild(log: Log): Promise<void> {
  log("hardhat build (compiles the contracts and generated verifiers when changed) …");
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, "node_modules", ".bin", "hardhat"), ["build"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`hardhat build failed (${code}):\n${out}`)),
    );
  });
}

type Pair = [bigint, bigint];

function toSolidity(proof: { pi_a: string[]; pi_b: string[][]; pi_c: string[] }) {
  const n = (s: string | undefined) => BigInt(s!);
  return {
    a: [n(proof.pi_a[0]), n(proof.pi_a[1])] as Pair,
    b: [
      [n(proof.pi_b[0]![1]), n(proof.pi_b[0]![0])],
      [n(proof.pi_b[1]![1]), n(proof.pi_b[1]![0])],
    ] as [Pair, Pair],
    c: [n(proof.pi_c[0]), n(proof.pi_c[1])] as Pair,
  };
}

/** Range circuits with a generated verifier, zkey and wasm, up to `maxDepth`. */
export function provableRangeCircuits(maxDepth: number): { name: string; depth: number }[] {
  const out: { name: string; depth: number }[] = [];
  for (const name of ["range_d4", "range_d20"]) {
    const p = circuitPaths(name);
    const depth = depthOf(name)!;
    if (depth > maxDepth) continue;
    if ([p.verifier, p.zkey, p.wasm].every((f) => existsSync(f))) out.push({ name, depth });
  }
  return out;
}

/** Runs the `gas` benchmark. */
export async function benchGas(opts: GasBenchOptions, log: Log): Promise<GasBenchData> {
  const circuits = provableRangeCircuits(opts.maxDepth);
  if (circuits.length === 0) {
    throw new Error("no range circuit built (run npm run build:circuits)");
  }
  await hardhatBuild(log);
  const { network } = await import("hardhat");
  const { partProofModule } = await import("../../../ignition/modules/PartProof.js");
  const conn = await network.create();
  const rows: GasRow[] = [];
  try {
    const { ethers, ignition, networkHelpers } = conn;
    const [admin, owner, consumer, relayer, other] = await ethers.getSigners();
    const gasOf = async (
      call: string,
      tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>,
      note?: string,
    ) => {
      const gasUsed = Number((await (await tx).wait())!.gasUsed);
      rows.push({ call, gasUsed, ...(note ? { note } : {}) });
      log(`gas: ${call}: ${gasUsed.toLocaleString("en-US")}`);
      return gasUsed;
    };
    log("gas: deploying with the Ignition module …");
    const module = partProofModule(["test", "production"]);
    const deployed = await ignition.deploy(module, { displayUi: false });
    const address = await deployed.partProof.getAddress();
    const deployReceipt = await deployed.partProof.deploymentTransaction()?.wait();
    if (deployReceipt) {
      rows.push({
        call: "deploy PartProof",
        gasUsed: Number(deployReceipt.gasUsed),
        note: "contract creation (PoseidonT5 linked)",
      });
    }
    const pp = await ethers.getContractAt("PartProof", address, admin);
    for (const c of circuits) {
      const entry = await pp.getCircuit(circuitId(c.name));
      if (entry.verifier === ethers.ZeroAddress) {
        throw new Error(`${verifierName(c.name)} was not registered by the Ignition module`);
      }
    }
    const schema = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
    const meta = "0x" + "ab".repeat(32);
    const params = "0x" + "cd".repeat(32);
    await gasOf(
      "registerAsset",
      pp.connect(owner).registerAsset(schema, meta, "https://gateway.example/partproof"),
    );
    const records = syntheticRecords(12);
    const policy = benchPolicy(records.length);
    const tuple = policyStruct(policy);
    const now = BigInt(await networkHelpers.time.latest());
    await gasOf(
      "grantAccess",
      pp.connect(owner).grantAccess(1n, consumer!.address, tuple, now, now + 86_400n, 100),
    );
    let version = 0;
    for (const c of circuits) {
      const tree = await buildTree(
        records,
        records.map(() => randomSalt()),
        c.depth,
      );
      version += 1;
      await gasOf(
        version === 1 ? "publishVersion (first version)" : "publishVersion (later version)",
        pp.connect(owner).publishVersion(1n, tree.root, BigInt(tree.leafCount), c.depth, params),
      );
      const versionId = await pp.versionIdOf(1n, version);
      const requestId = ethers.id(`bench-${c.name}`);
      const binding = (await pp.bindingFor(1n, requestId)) as bigint;
      const w = rangeWitness(tree, benchQuery(records.length), policy, randomSalt(), binding);
      const p = circuitPaths(c.name);
      log(`gas: proving a ${c.name} answer for recordAnswer …`);
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(w.input, p.wasm, p.zkey);
      const sol = toSolidity(proof);
      const signals = (publicSignals as string[]).map(BigInt) as [
        bigint,
        bigint,
        bigint,
        bigint,
        bigint,
      ];
      const verifier = await ethers.getContractAt(
        "IGroth16Verifier",
        (await pp.getCircuit(circuitId(c.name))).verifier,
      );
      // verifyProof is a view: send it as a plain transaction to measure the gas it uses.
      const verifyTx = await relayer!.sendTransaction({
        to: await verifier.getAddress(),
        data: verifier.interface.encodeFunctionData("verifyProof", [sol.a, sol.b, sol.c, signals]),
      });
      const verifyGas = (await verifyTx.wait())!.gasUsed;
      rows.push({
        call: `verifyProof (${verifierName(c.name)})`,
        gasUsed: Number(verifyGas),
        note: "a direct transaction: Groth16 verification + 21,000 base + calldata",
      });
      log(`gas: verifyProof (${verifierName(c.name)}): ${verifyGas.toLocaleString("en-US")}`);
      const consent = {
        versionId,
        signature: await signAnswerConsent(
          consumer!,
          { chainId: (await ethers.provider.getNetwork()).chainId, partProof: address },
          { grantId: 1n, requestId, versionId, queryHash: signals[2] },
        ),
      };
      await gasOf(
        `recordAnswer (${c.name})`,
        pp
          .connect(relayer)
          .recordAnswer(1n, versionId, circuitId(c.name), requestId, sol, signals, consent),
        "real proof, Groth16 verification included",
      );
    }
    await pp.connect(owner).grantAccess(1n, other!.address, tuple, now, now + 86_400n, 100);
    await gasOf("revokeGrant", pp.connect(owner).revokeGrant(2n));
    return { rows, circuits: circuits.map((c) => c.name) };
  } finally {
    await conn.close();
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
  }
}
