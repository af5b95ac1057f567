/**
 * The console on a playground (the demo's `--console`, `npm run console -- --sandbox DIR`, the
 * console's browser test): the demo roles as DEVELOPMENT accounts, and the console started on
 * the playground's chain and gateways.
 */
import { startConsole, type DevAccount, type RunningConsole } from "../../console/server.js";
import { DEMO_SUPPLIERS } from "./demo-data.js";
import { demoRoles, type Playground } from "./sandbox.js";

/** The demo roles as the console's DEVELOPMENT accounts (Hardhat's public test keys). */
export function consoleDevAccounts(): DevAccount[] {
  const roles = demoRoles();
  return [
    { label: "Automaker", role: "automaker", privateKey: roles.automaker.privateKey },
    ...DEMO_SUPPLIERS.map((s, i) => ({
      label: `${s.name} (supplier)`,
      role: "supplier" as const,
      privateKey: roles.suppliers[i]!.privateKey,
    })),
    { label: "Auditor", role: "auditor", privateKey: roles.auditor.privateKey },
  ];
}

/** Serves the console on a running playground, at `port` (its gateways must allow that origin). */
export function startConsoleOn(p: Playground, port: number): Promise<RunningConsole> {
  return startConsole({
    rpcUrl: p.node.url,
    deployment: p.deployment,
    gateways: DEMO_SUPPLIERS.map((s, i) => ({ name: s.name, url: p.gateways[i]!.url })),
    devAccounts: consoleDevAccounts(),
    port,
  });
}
