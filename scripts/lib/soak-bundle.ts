/**
 * The gateway bundled once per soak run (esbuild), so that each restart after a kill runs plain
 * `node` on JavaScript instead of transpiling every TypeScript module again under tsx — most of
 * a restart, and of a prover process's start, on a loaded machine.
 *
 * What is written, in node_modules/.cache/partproof-soak/<pid>/ (where packages resolve):
 *  - `main.mjs`: the entry with every module and package it imports, except native ones
 *    ({@link EXTERNAL}), which load from node_modules as usual;
 *  - `worker-entry.mjs`: the pools' worker entry (gateway/prover/worker-entry.mjs itself,
 *    bundled), whose tsx `register()` is replaced by a resolve hook that sends the worker script
 *    it is asked to import (`./worker.ts`, `./ingest-worker.ts`) to its bundle beside it;
 *  - one `<name>.mjs` per worker script (gateway/prover/*worker.ts).
 * Each source module's `import.meta.url` is its own file's URL, so that what a module finds
 * beside itself (the native addon, the repository root, artifacts) is found as under tsx; the
 * one exception is the worker pool's module, whose URL is the bundle folder's, so that it
 * starts the bundled worker entry.
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

/**
 * Packages left to node_modules: level's classic-level loads its native binary by path, and
 * snarkjs' thread pool (ffjavascript, web-worker) starts threads on its own module files.
 */
const EXTERNAL = ["level", "classic-level", "snarkjs", "ffjavascript", "web-worker"];
/** The module that starts pool workers (its `./worker-entry.mjs` is the bundled one). */
const POOL_MODULE = path.join("gateway", "prover", "pool.ts");
const WORKER_ENTRY = path.join("gateway", "prover", "worker-entry.mjs");

/** Each source module's `import.meta.url` → its file's URL (the pool's: the bundle folder's). */
function sourceUrls(root: string, dir: string): Plugin {
  return {
    name: "source-import-meta-url",
    setup(b) {
      b.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const text = await readFile(args.path, "utf8");
        const file =
          path.resolve(args.path) === path.resolve(root, POOL_MODULE)
            ? path.join(dir, path.basename(args.path))
            : args.path;
        return {
          contents: text.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(file).href)),
          loader: /\.[cm]?ts$/.test(args.path) ? "ts" : "js",
        };
      });
    },
  };
}

/**
 * tsx's `register` in the bundled worker entry: instead of transpiling TypeScript as it is
 * imported, a worker script `<dir>/<name>.ts` resolves to its bundle `<dir>/<name>.mjs` (Node's
 * in-thread `module.registerHooks`, in the process or thread that calls it).
 */
function bundledWorkers(dir: string): Plugin {
  const dirUrl = pathToFileURL(dir + path.sep).href;
  return {
    name: "bundled-workers",
    setup(b) {
      b.onResolve({ filter: /^tsx\/esm\/api$/ }, () => ({ path: "tsx", namespace: "soak" }));
      b.onLoad({ filter: /.*/, namespace: "soak" }, () => ({
        contents: `import { registerHooks } from "node:module";
const DIR = ${JSON.stringify(dirUrl)};
export function register() {
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier.startsWith(DIR) && specifier.endsWith(".ts"))
        return { url: specifier.slice(0, -3) + ".mjs", format: "module", shortCircuit: true };
      return next(specifier, context);
    },
  });
}`,
        loader: "js",
      }));
    },
  };
}

/** The bundles of one run; `remove()` deletes them. */
export interface GatewayBundle {
  /** The gateway's entry, to run with plain `node`. */
  main: string;
  remove(): Promise<void>;
}

/** Bundles `entry` (the gateway's main, a path under `root`) and the pools' workers. */
export async function bundleGateway(root: string, entry: string): Promise<GatewayBundle> {
  const dir = path.join(root, "node_modules", ".cache", "partproof-soak", String(process.pid));
  await mkdir(dir, { recursive: true });
  const workers = (await readdir(path.join(root, "gateway", "prover"))).filter((f) =>
    f.endsWith("worker.ts"),
  );
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: "node" as const,
    format: "esm" as const,
    target: "node22",
    external: EXTERNAL,
    logLevel: "error" as const,
    // CommonJS packages inside an ES module bundle require Node's built-ins (e.g. debug → tty)
    banner: {
      js: 'import { createRequire as soakRequire } from "node:module"; const require = soakRequire(import.meta.url);',
    },
  };
  try {
    await Promise.all([
      build({
        ...common,
        entryPoints: [entry],
        outfile: path.join(dir, "main.mjs"),
        plugins: [sourceUrls(root, dir)],
      }),
      build({
        ...common,
        entryPoints: [WORKER_ENTRY],
        outfile: path.join(dir, "worker-entry.mjs"),
        plugins: [bundledWorkers(dir)],
      }),
      ...workers.map((w) =>
        build({
          ...common,
          entryPoints: [path.join("gateway", "prover", w)],
          outfile: path.join(dir, w.replace(/\.ts$/, ".mjs")),
          plugins: [sourceUrls(root, dir)],
        }),
      ),
    ]);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    main: path.join(dir, "main.mjs"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
