/**
 * Hardhat Ignition module: deploys the PoseidonT5 library, PartProof (library linked, the
 * deployer as admin with every role), and the snarkjs verifiers found in contracts/generated/
 * for the answer circuits of circuits/circuits.json whose `target` is one of the requested
 * targets, registering each under circuitId = keccak256(name).
 *
 * The targets default to ["production"]: the test-size circuits ("test") are built on a
 * single-party development setup and must never be registered on a production chain by
 * accident. Tests and the demo ask for them explicitly with `partProofModule(["test", …])`.
 *
 * Why a module factory and not an Ignition module parameter (`m.getParameter`): Ignition
 * resolves parameters after the module is built, as values for futures' arguments, so a
 * parameter cannot decide which verifier futures exist. For `npx hardhat ignition deploy` the
 * default export reads the comma-separated targets from PARTPROOF_TARGETS (default
 * "production"); `scripts/deploy.ts --targets` is the usual way.
 *
 * Hand roles over afterwards with grantRole/renounceRole if the deployer should not keep them.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { POSEIDON_T5_ARTIFACT } from "../../contracts/poseidon.js";
import { generatedVerifiers, type CircuitEntry } from "../../protocol/manifest.js";

export { generatedVerifiers, type GeneratedVerifier } from "../../protocol/manifest.js";

/** A circuit build target of circuits/circuits.json. */
export type CircuitTarget = CircuitEntry["target"];

/** Every target name, in manifest order. */
export const CIRCUIT_TARGETS: readonly CircuitTarget[] = ["test", "production"];

/**
 * Parses a comma-separated target list ("production", "test,production").
 * @throws Error naming the unknown target or an empty list.
 */
export function parseTargets(list: string): CircuitTarget[] {
  const targets = list
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  for (const t of targets) {
    if (!CIRCUIT_TARGETS.includes(t as CircuitTarget)) {
      throw new Error(`unknown circuit target "${t}": use ${CIRCUIT_TARGETS.join(" or ")}`);
    }
  }
  if (targets.length === 0) throw new Error("no circuit target given");
  return [...new Set(targets as CircuitTarget[])];
}

/** The generated answer-circuit verifiers of the given targets (what the module registers). */
export function verifiersFor(targets: readonly CircuitTarget[]) {
  return generatedVerifiers().filter((v) => targets.includes(v.target));
}

function build(targets: readonly CircuitTarget[]) {
  return buildModule("PartProof", (m) => {
    const deployer = m.getAccount(0);
    const poseidonT5 = m.library("PoseidonT5", POSEIDON_T5_ARTIFACT);
    const partProof = m.contract("PartProof", [deployer], {
      libraries: { PoseidonT5: poseidonT5 },
    });
    for (const v of verifiersFor(targets)) {
      const verifier = m.contract(v.contract, [], { id: v.contract });
      m.call(partProof, "registerCircuit", [v.circuitId, verifier], {
        id: `register_${v.name}`,
      });
    }
    return { partProof, poseidonT5 };
  });
}

const modules = new Map<string, ReturnType<typeof build>>();

/**
 * The PartProof deployment module registering the verifiers of `targets` (default
 * production only). Returns the same module object for the same set of targets.
 */
export function partProofModule(targets: readonly CircuitTarget[] = ["production"]) {
  const key = [...new Set(targets)].sort().join(",");
  let module = modules.get(key);
  if (!module) {
    module = build(targets);
    modules.set(key, module);
  }
  return module;
}

/** The module for `npx hardhat ignition deploy`: targets from PARTPROOF_TARGETS, else production. */
const PartProofModule = partProofModule(
  parseTargets(process.env.PARTPROOF_TARGETS ?? "production"),
);

export default PartProofModule;
