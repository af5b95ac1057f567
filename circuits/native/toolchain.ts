/**
 * Where the native addons (build.ts: Poseidon, build-prover.ts: Groth16) find Node-API's
 * headers, and the flags they are compiled with.
 */
import path from "node:path";

/** Folders that may hold Node-API headers (node_api.h), most specific first. */
export function headerDirs(): string[] {
  const prefix = path.dirname(path.dirname(process.execPath));
  return [
    path.join(prefix, "include/node"),
    // the `node` npm package: node_modules/node/bin/node next to node_modules/node-<os>-<arch>
    path.join(prefix, `node_modules/node-${process.platform}-${process.arch}/include/node`),
    path.join(prefix, `../node-${process.platform}-${process.arch}/include/node`),
    "/usr/include/node",
    "/usr/local/include/node",
  ];
}

/** C compiler flags of a shared Node-API addon. */
export function compilerFlags(): string[] {
  const flags = ["-O3", "-std=gnu11", "-shared", "-fPIC", "-pthread", "-Wall", "-Wextra"];
  if (process.platform === "darwin") flags.push("-undefined", "dynamic_lookup");
  return flags;
}
