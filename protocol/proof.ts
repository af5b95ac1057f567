/**
 * Groth16 proofs in the two shapes the parties exchange: snarkjs' JSON (gateway → consumer,
 * off-chain verification) and the Solidity verifier's call-data order (recordAnswer, events).
 */

/** A Groth16 proof as snarkjs writes it. */
export interface SnarkjsProof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol?: string;
  curve?: string;
}

/** A Groth16 proof in the contract's call-data order. */
export interface SolidityProof {
  /** pi_a. */
  a: [bigint, bigint];
  /** pi_b with each pair swapped (snarkjs' Solidity order). */
  b: [[bigint, bigint], [bigint, bigint]];
  /** pi_c. */
  c: [bigint, bigint];
}

/** Converts a snarkjs proof object to the contract's call-data order. */
export function toSolidityProof(proof: SnarkjsProof): SolidityProof {
  const b = (i: number, j: number) => BigInt(proof.pi_b[i]![j]!);
  return {
    a: [BigInt(proof.pi_a[0]!), BigInt(proof.pi_a[1]!)],
    // The Solidity verifier takes each G2 coordinate pair in reverse order.
    b: [
      [b(0, 1), b(0, 0)],
      [b(1, 1), b(1, 0)],
    ],
    c: [BigInt(proof.pi_c[0]!), BigInt(proof.pi_c[1]!)],
  };
}

/** Converts a proof in the contract's order (e.g. decoded from call data) back to snarkjs' form. */
export function toSnarkjsProof(p: {
  a: readonly bigint[];
  b: readonly (readonly bigint[])[];
  c: readonly bigint[];
}): SnarkjsProof & { protocol: string; curve: string } {
  const s = (x: bigint | undefined) => (x ?? 0n).toString();
  const b = p.b as [bigint[], bigint[]];
  return {
    protocol: "groth16",
    curve: "bn128",
    pi_a: [s(p.a[0]), s(p.a[1]), "1"],
    pi_b: [
      [s(b[0][1]), s(b[0][0])],
      [s(b[1][1]), s(b[1][0])],
      ["1", "0"],
    ],
    pi_c: [s(p.c[0]), s(p.c[1]), "1"],
  };
}
