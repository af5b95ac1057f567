/**
 * Shared deployment helpers and sample values for the contract tests.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { POSEIDON_T5_ABI, POSEIDON_T5_BYTECODE } from "../../contracts/poseidon.js";
import { policyHash, thresholdSlots, type Policy } from "../../circuits/lib/signals.js";
import { policyStruct } from "../../protocol/contract.js";
import type { Signer } from "ethers";
import {
  signAnswerConsent,
  type AnswerConsentMessage,
  type Domain,
} from "../../protocol/typed-data.js";

/** Deploys the PoseidonT5 library from the poseidon-solidity package; returns its address. */
export async function deployPoseidonT5(ethers: HardhatEthers): Promise<string> {
  const [deployer] = await ethers.getSigners();
  const factory = new ethers.ContractFactory(POSEIDON_T5_ABI, POSEIDON_T5_BYTECODE, deployer);
  const lib = await factory.deploy();
  await lib.waitForDeployment();
  return lib.getAddress();
}

/** Deploys PartProof (PoseidonT5 linked) with `admin` holding every role. */
export async function deployPartProof(ethers: HardhatEthers, admin?: string) {
  const [deployer] = await ethers.getSigners();
  const poseidon = await deployPoseidonT5(ethers);
  return ethers.deployContract("PartProof", [admin ?? (await deployer!.getAddress())], {
    libraries: { PoseidonT5: poseidon },
  });
}

/** A sample policy: COUNT and SUM on fields 0..3, filters on fields 0..1, k = 5. */
export const POLICY: Policy = {
  aggregateMask: 0b11,
  fieldMask: 0b1111,
  filterMask: 0b11,
  keyLo: 10n,
  keyHi: 2n ** 100n,
  minCohort: 5,
};

/** POLICY (or `p`) as the Solidity struct tuple. */
export function policyTuple(p: Policy = POLICY) {
  return policyStruct(p);
}

/**
 * The Solidity struct as ethers decodes it (tuple order: masks, minCohort, keyLo, keyHi, the
 * four threshold slots).
 */
export function policyArray(p: Policy = POLICY) {
  return [
    BigInt(p.aggregateMask),
    BigInt(p.fieldMask),
    BigInt(p.filterMask),
    BigInt(p.minCohort),
    p.keyLo,
    p.keyHi,
    thresholdSlots(p),
  ];
}

/** The policy hash of POLICY. */
export const POLICY_HASH = policyHash(POLICY);

/** A sample schema id. */
export const SCHEMA = "urn:samm:io.catenax.manufactured_parts_quality_information:3.0.0";
/** A sample metadata hash. */
export const META = "0x" + "ab".repeat(32);
/** A sample params hash. */
export const PARAMS = "0x" + "cd".repeat(32);
/** A sample gateway endpoint. */
export const ENDPOINT = "https://gateway.supplier.example/partproof";
/** A sample root. */
export const ROOT = 123456789n;

/** `signer`'s AnswerConsent for `msg`, as recordAnswer takes it: { versionId, signature }. */
export async function consentFor(signer: Signer, domain: Domain, msg: AnswerConsentMessage) {
  return { versionId: msg.versionId, signature: await signAnswerConsent(signer, domain, msg) };
}
