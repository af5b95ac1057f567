/**
 * `constraints` benchmark: constraint count, public inputs and powers of tau of every circuit
 * instance of circuits/circuits.json that is compiled (its .r1cs present), from snarkjs
 * r1cs info. `target` restricts it to the manifest's test or production instances.
 */
import { existsSync } from "node:fs";
import { circuitPaths, r1csInfo, readManifest, requiredPower } from "../circuit-build.js";
import type { Log } from "./common.js";

/** One compiled circuit. */
export interface ConstraintRow {
  name: string;
  target: "test" | "production";
  constraints: number;
  publicInputs: number;
  outputs: number;
  /** Wires (signals incl. the constant 1). */
  wires: number;
  /** Power of tau the manifest assigns. */
  ptau: number;
  /** Smallest power snarkjs' setup accepts for this circuit. */
  requiredPtau: number;
  /** Whether the zkey exists (setup done). */
  zkey: boolean;
}

/** Result of the `constraints` benchmark. */
export interface ConstraintsBenchData {
  circuits: ConstraintRow[];
  /** Manifest circuits with no .r1cs yet. */
  notCompiled: string[];
  /** Circuits whose .r1cs could not be read (e.g. being rewritten by a build), with why. */
  unreadable?: { name: string; error: string }[];
}

/** Runs the `constraints` benchmark. */
export async function benchConstraints(
  log: Log,
  target?: "test" | "production",
): Promise<ConstraintsBenchData> {
  const manifest = (await readManifest()).filter((c) => !target || c.target === target);
  const circuits: ConstraintRow[] = [];
  const notCompiled: string[] = [];
  let unreadable: { name: string; error: string }[] | undefined;
  for (const c of manifest) {
    const p = circuitPaths(c.name);
    if (!existsSync(p.r1cs)) {
      notCompiled.push(c.name);
      log(`constraints: ${c.name} not compiled (skipped)`);
      continue;
    }
    let info: Awaited<ReturnType<typeof r1csInfo>>;
    try {
      info = await r1csInfo(p.r1cs);
    } catch (e) {
      (unreadable ??= []).push({ name: c.name, error: (e as Error).message });
      log(`constraints: ${c.name}: cannot read ${c.name}.r1cs (${(e as Error).message})`);
      continue;
    }
    const row: ConstraintRow = {
      name: c.name,
      target: c.target,
      constraints: info.nConstraints,
      publicInputs: info.nPubInputs,
      outputs: info.nOutputs,
      wires: info.nVars,
      ptau: c.ptau,
      requiredPtau: requiredPower(info),
      zkey: existsSync(p.zkey),
    };
    circuits.push(row);
    log(
      `constraints: ${c.name}: ${row.constraints.toLocaleString("en-US")} constraints, ` +
        `${row.publicInputs} public inputs, ptau 2^${row.ptau} (needs 2^${row.requiredPtau})`,
    );
  }
  return { circuits, notCompiled, ...(unreadable ? { unreadable } : {}) };
}
