/**
 * A Groth16 verification key as the words a snarkjs Solidity verifier holds: the console matches
 * the key it ships with the bytecode of the verifier the chain registered (verify.ts). Pure, so
 * that Node tests can check it against a deployed verifier.
 */

/**
 * The hex words of a Groth16 verification key's curve points (x, y; G2 as pairs), each in its
 * shortest whole-byte form: solc pushes a constant with leading zero bytes with a shorter PUSH,
 * so a 32-byte pattern would not be found in the bytecode of a matching verifier.
 */
export function vkeyWords(vkey: Record<string, unknown>): string[] {
  const g1 = (p: unknown) => (p as string[]).slice(0, 2);
  const g2 = (p: unknown) => (p as string[][]).slice(0, 2).flat();
  const values = [
    ...g1(vkey.vk_alpha_1),
    ...g2(vkey.vk_beta_2),
    ...g2(vkey.vk_gamma_2),
    ...g2(vkey.vk_delta_2),
    ...(vkey.IC as unknown[]).flatMap(g1),
  ];
  return values.map((v) => {
    const h = BigInt(v).toString(16);
    return h.length % 2 === 1 ? `0${h}` : h;
  });
}

/** Whether a verifier's runtime bytecode holds every word of a verification key. */
export function codeHoldsVkey(code: string, vkey: Record<string, unknown>): boolean {
  const hex = code.toLowerCase();
  return vkeyWords(vkey).every((w) => hex.includes(w));
}
