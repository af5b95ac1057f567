/**
 * Worker thread of circuits/lib/tree.ts: hashes batches of Poseidon inputs with circomlibjs'
 * WASM Poseidon. A batch is `n` hashes of `arity` 32-byte little-endian slots each; slot j is
 * already in Montgomery form when bit j of `montMask` is set (a hash output), otherwise it is
 * a standard-form integer converted here. Replies with the n Montgomery-form outputs.
 */
import { parentPort } from "node:worker_threads";
import { buildPoseidon } from "./circomlib-poseidon.mjs";

const poseidon = await buildPoseidon();
const F = poseidon.F;

parentPort.on("message", ({ id, n, arity, montMask, buf }) => {
  const out = new Uint8Array(n * 32);
  const input = new Uint8Array(arity * 32);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < arity; j++) {
      const slot = buf.subarray((i * arity + j) * 32, (i * arity + j + 1) * 32);
      input.set((montMask >> j) & 1 ? slot : F.toMontgomery(slot), j * 32);
    }
    out.set(poseidon(input), i * 32);
  }
  parentPort.postMessage({ id, out }, [out.buffer]);
});
parentPort.postMessage({ ready: true });
