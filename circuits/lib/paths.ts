/** Where the build pipeline (scripts/build-circuits.ts) puts each circuit instance's files. */
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (circom2 runs under WASI and needs paths relative to it). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Paths of one compiled circuit instance under circuits/build/<name>/. */
export interface CircuitFiles {
  name: string;
  dir: string;
  r1cs: string;
  wasm: string;
  sym: string;
  zkey: string;
  vkey: string;
}

/**
 * The build paths of circuit instance `name` (they may not exist yet), under `buildDir`
 * (default circuits/build in the repository).
 */
export function circuitFiles(
  name: string,
  buildDir: string = path.join(REPO_ROOT, "circuits", "build"),
): CircuitFiles {
  if (!/^[a-z0-9_]+$/.test(name)) throw new RangeError(`bad circuit name "${name}"`);
  const dir = path.join(buildDir, name);
  return {
    name,
    dir,
    r1cs: path.join(dir, `${name}.r1cs`),
    wasm: path.join(dir, `${name}_js`, `${name}.wasm`),
    sym: path.join(dir, `${name}.sym`),
    zkey: path.join(dir, `${name}.zkey`),
    vkey: path.join(dir, `${name}.vkey.json`),
  };
}
