/**
 * A Groth16 verification key as the words a snarkjs Solidity verifier holds: the console
 * (console/web/verify.ts) and the gateway's start-up checks match a key with the bytecode of the
 * verifier the chain registered. Pure (no Node imports), so the browser bundle can use it.
 */

/**
 * The hex words of a Groth16 verification key's curve points (x, y; G2 as pairs), each in its
 * shortest whole-byte form: solc pushes a constant with leading zero bytes with a shorter PUSH,
 * so a 32-byte pattern would not be found in the bytecode of a matching verifier.
 */
export function vkeyWords(vkey: unknown): string[] {
  const k = vkey as Record<string, unknown>;
  const g1 = (p: unknown) => (p as string[]).slice(0, 2);
  const g2 = (p: unknown) => (p as string[][]).slice(0, 2).flat();
  const values = [
    ...g1(k.vk_alpha_1),
    ...g2(k.vk_beta_2),
    ...g2(k.vk_gamma_2),
    ...g2(k.vk_delta_2),
    ...(k.IC as unknown[]).flatMap(g1),
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
