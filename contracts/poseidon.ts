/**
 * The PoseidonT5 library (npm `poseidon-solidity`) that PartProof links for policy hashes.
 * Hardhat 3 emits no artifact for a library imported from npm, so the library's creation
 * bytecode is taken from the package itself (the same build the package deploys at a
 * deterministic address on public chains).
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { PoseidonT5 } = require("poseidon-solidity") as {
  PoseidonT5: { bytecode: string; address: string };
};

/** Fully qualified name under which PartProof's bytecode references the library. */
export const POSEIDON_T5_FQN = "npm/poseidon-solidity@0.0.5/PoseidonT5.sol:PoseidonT5";

/** ABI of PoseidonT5: `hash(uint256[4]) public pure returns (uint256)`. */
export const POSEIDON_T5_ABI = [
  {
    type: "function",
    name: "hash",
    stateMutability: "pure",
    inputs: [{ name: "", type: "uint256[4]" }],
    outputs: [{ name: "", type: "uint256" }],
  },
] as const;

/** Creation bytecode of PoseidonT5 as published in `poseidon-solidity`. */
export const POSEIDON_T5_BYTECODE: string = PoseidonT5.bytecode;

/** Address of the package's deterministic (CREATE2 proxy) deployment on public chains. */
export const POSEIDON_T5_DETERMINISTIC_ADDRESS: string = PoseidonT5.address;

/** A Hardhat/Ignition artifact for PoseidonT5, for `m.library("PoseidonT5", artifact)`. */
export const POSEIDON_T5_ARTIFACT = {
  _format: "hh3-artifact-1",
  contractName: "PoseidonT5",
  sourceName: "npm/poseidon-solidity@0.0.5/PoseidonT5.sol",
  abi: POSEIDON_T5_ABI,
  bytecode: POSEIDON_T5_BYTECODE,
  deployedBytecode: "0x",
  linkReferences: {},
  deployedLinkReferences: {},
};
