/**
 * Hardhat Ignition module: deploys the PoseidonT5 library, PartProof (library linked, the
 * deployer as admin with every role), and every snarkjs verifier found in contracts/generated/
 * for a circuit of circuits/circuits.json, registering each under circuitId = keccak256(name).
 *
 * Hand roles over afterwards with grantRole/renounceRole if the deployer should not keep them.
 */
import { existsSync, readFileSync } from "node:fs";
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { circuitId } from "../../circuits/lib/signals.js";
import { POSEIDON_T5_ARTIFACT } from "../../contracts/poseidon.js";
import { circuitPaths, MANIFEST, verifierName } from "../../scripts/lib/circuit-build.js";

/** A generated verifier to deploy and register. */
export interface GeneratedVerifier {
  /** Circuit instance name in circuits/circuits.json. */
  name: string;
  /** Verifier contract name, e.g. RangeD4Verifier. */
  contract: string;
  /** keccak256(name). */
  circuitId: string;
}

/** The circuits of the manifest whose verifier exists in contracts/generated/. */
export function generatedVerifiers(manifest = MANIFEST): GeneratedVerifier[] {
  if (!existsSync(manifest)) return [];
  const parsed = JSON.parse(readFileSync(manifest, "utf8")) as {
    circuits?: { name: string; verifier?: boolean; kind?: string }[];
  };
  return (
    (parsed.circuits ?? [])
      // only answer circuits belong in the access log's verifier registry (five public signals)
      .filter((c) => (c.kind ?? "answer") === "answer")
      .filter((c) => c.verifier !== false && existsSync(circuitPaths(c.name).verifier))
      .map((c) => ({ name: c.name, contract: verifierName(c.name), circuitId: circuitId(c.name) }))
  );
}

/** The PartProof deployment module. */
const PartProofModule = buildModule("PartProof", (m) => {
  const deployer = m.getAccount(0);
  const poseidonT5 = m.library("PoseidonT5", POSEIDON_T5_ARTIFACT);
  const partProof = m.contract("PartProof", [deployer], {
    libraries: { PoseidonT5: poseidonT5 },
  });
  for (const v of generatedVerifiers()) {
    const verifier = m.contract(v.contract, [], { id: v.contract });
    m.call(partProof, "registerCircuit", [v.circuitId, verifier], {
      id: `register_${v.name}`,
    });
  }
  return { partProof, poseidonT5 };
});

export default PartProofModule;
