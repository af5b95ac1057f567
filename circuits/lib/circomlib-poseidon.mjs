/**
 * circomlibjs' WASM Poseidon builder, loaded from its own module (src/poseidon_wasm.js) instead
 * of the package's index, for circuits/lib/tree-engine.ts and its worker threads.
 *
 * Why not `import { buildPoseidon } from "circomlibjs"`: the index also imports circomlibjs'
 * EdDSA and Pedersen modules, which load the native `blake-hash` addon. That addon keeps its
 * class constructors in process-wide C++ statics (`static Napi::FunctionReference`) that every
 * thread loading it overwrites, deleting the previous thread's reference with that thread's
 * (possibly already torn down) napi_env: when worker threads that loaded it come and go, the
 * process aborts or its heap is corrupted (glibc's "free(): invalid next size", "corrupted
 * size vs. prev_size", SIGSEGV in V8's GC). The Poseidon needs none of it. The package's
 * exports map names only its index, hence the file URL.
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = path.dirname(fileURLToPath(import.meta.resolve("circomlibjs")));
const mod = await import(pathToFileURL(path.join(dir, "src/poseidon_wasm.js")).href);

/** circomlibjs' `buildPoseidon` (WASM Poseidon with circomlib's constants). */
export const buildPoseidon = mod.buildPoseidon;
