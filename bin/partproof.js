#!/usr/bin/env node
/**
 * The `partproof` command (the package's bin). The CLI is TypeScript; this launcher registers
 * tsx's loader (a runtime dependency) and runs it, so `npx partproof` in a checkout and a
 * global install of the packed tarball run the very sources the tests cover, with no build
 * step to forget. Node >= 22.13, like the rest of the project.
 */
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/partproof.ts");
await main();
