/**
 * Hardhat Ignition module: deploys the PoseidonT5 library, PartProof (library linked, the
 * deployer as admin with every role), and every snarkjs verifier found in contracts/generated/
 * for a circuit of circuits/circuits.json, registering each under circuitId = keccak256(name).
 *
 * Hand roles over afterwards with grantRole/renounceRole if the deployer should not keep them.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { POSEIDON_T5_ARTIFACT } from "../../contracts/poseidon.js";
import { generatedVerifiers } from "../../protocol/manifest.js";

export { generatedVerifiers, type GeneratedVerifier } from "../../protocol/manifest.js";

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
