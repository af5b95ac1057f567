/**
 * The allowed dependency direction (DESIGN.md "Layout"), checked by `npm run lint` (part of
 * `npm test`):
 *
 *   apps (gateway, cli, console, ignition; scripts orchestrate them)
 *        ↓
 *   protocol/   (typed data, HTTP schemas, record schemas, proof format, manifest, ABI)
 *        ↓
 *   circuits/lib, contracts/*.ts, types/ (generated contract bindings)
 *
 * No app imports another app; nothing outside test/ imports test/. scripts/ may start the
 * gateway and drive the CLI's role modules (demo, bench), but scripts/lib may not import test/.
 */
const APP = "^(gateway|cli|console|ignition)/";
module.exports = {
  forbidden: [
    {
      name: "no-test-imports",
      comment: "Nothing but tests imports test/.",
      severity: "error",
      from: { pathNot: "^test/" },
      to: { path: "^test/" },
    },
    {
      name: "gateway-is-an-app",
      comment: "The gateway imports no other app (cli, console, scripts, ignition).",
      severity: "error",
      from: { path: "^gateway/" },
      to: { path: "^(cli|console|scripts|ignition)/" },
    },
    {
      name: "cli-is-an-app",
      comment: "The CLI imports no other app: it speaks to gateways over HTTP via protocol/.",
      severity: "error",
      from: { path: "^cli/" },
      to: { path: "^(gateway|console|scripts|ignition)/" },
    },
    {
      name: "console-is-an-app",
      comment:
        "The console imports no other app; of the CLI only the pure modules (no Node, no file, no network: the reconciliation, the report's Markdown, the log reader over a session it is given, formatting, the policy words, the metric presets and the chart's axis rule), which it bundles for the browser.",
      severity: "error",
      from: { path: "^console/" },
      to: {
        path: "^(gateway|cli|scripts|ignition)/",
        pathNot:
          "^cli/(reconcile|report-markdown|chain-log|format|policy|errors|metrics|svg-chart)\\.ts$",
      },
    },
    {
      name: "console-web-is-browser-code",
      comment:
        "The browser app (console/web) imports no Node built-in module and not the Node side of the protocol (the manifest reads files); esbuild refuses to bundle the rest (console/server.ts).",
      severity: "error",
      from: { path: "^console/web/" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "console-web-no-node-protocol",
      severity: "error",
      from: { path: "^console/web/" },
      to: { path: "^(protocol/manifest|circuits/lib/(paths|prove|testing|tree-engine))\\.ts$" },
    },
    {
      name: "ignition-is-deployment-only",
      comment: "Ignition modules read the manifest from protocol/, never from the build tools.",
      severity: "error",
      from: { path: "^ignition/" },
      to: { path: "^(gateway|cli|console|scripts)/" },
    },
    {
      name: "protocol-below-apps",
      comment: "protocol/ is what every app speaks; it imports no app and no script.",
      severity: "error",
      from: { path: "^protocol/" },
      to: { path: `${APP}|^scripts/` },
    },
    {
      name: "libraries-below-protocol",
      comment: "circuits/lib and the contracts' TS helpers import neither protocol/ nor an app.",
      severity: "error",
      from: { path: "^(circuits|contracts)/" },
      to: { path: `${APP}|^scripts/|^protocol/` },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|artifacts|cache|circuits/build|coverage)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
