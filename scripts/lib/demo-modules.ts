/**
 * The modules the demo's story runs on, gathered so that scripts/demo.ts can import them once
 * the build chapter has written the contracts' TypeScript bindings (types/), which they load.
 * The demo starts its build before this import, so a fresh clone's contract compile runs beside
 * the circuits' instead of before the demo.
 */
export * as auditorCli from "../../cli/auditor.js";
export * as automakerCli from "../../cli/automaker.js";
export { describeAnswer, describeCheck } from "../../cli/format.js";
export { policyOf, schemaOf } from "../../cli/policy.js";
export { servedAnswers } from "../../cli/reconcile.js";
export { writeReport } from "../../cli/report.js";
export * as supplierCli from "../../cli/supplier.js";
export { GatewayRefusal } from "../../protocol/client.js";
export { startConsoleOn } from "./console.js";
export { demoAudit } from "./demo-audit.js";
export { playShapes } from "./demo-shapes.js";
export { playClaims } from "./demo-claims.js";
export {
  demoRoles,
  newcomerCommands,
  newcomerText,
  preparePlaygroundDir,
  publishDemoData,
  sessionsOf,
  startPlayground,
  writeEnvFile,
} from "./sandbox.js";
