/**
 * The committed gas snapshot (`gas-snapshot.json` at the repository root): tests record the
 * gas of the main calls and fail when one drifts more than 2% from the committed value.
 * `UPDATE_GAS_SNAPSHOT=1` rewrites the measured entries instead.
 */
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import hre from "hardhat";

/** Path of the committed snapshot. */
export const SNAPSHOT_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "gas-snapshot.json",
);

/**
 * True under `hardhat test --coverage`: instrumented bytecode costs more gas, so gas
 * comparisons are skipped then.
 */
export const COVERAGE = Boolean((hre.globalOptions as { coverage?: boolean }).coverage);

/** Allowed relative drift before a test fails. */
export const MAX_DRIFT = 0.02;

function read(): Record<string, number> {
  return existsSync(SNAPSHOT_FILE)
    ? (JSON.parse(readFileSync(SNAPSHOT_FILE, "utf8")) as Record<string, number>)
    : {};
}

/**
 * Compares `gasUsed` with the snapshot entry `name` (fails on > 2% drift or a missing entry),
 * or rewrites the entry when UPDATE_GAS_SNAPSHOT=1.
 */
export function checkGas(name: string, gasUsed: bigint): void {
  const measured = Number(gasUsed);
  const snapshot = read();
  if (process.env.UPDATE_GAS_SNAPSHOT === "1") {
    snapshot[name] = measured;
    const sorted = Object.fromEntries(
      Object.entries(snapshot).sort(([a], [b]) => a.localeCompare(b)),
    );
    writeFileSync(SNAPSHOT_FILE, JSON.stringify(sorted, null, 2) + "\n");
    // Update mode still asserts: the entry must now be in the file with the measured value.
    expect(read()[name], `gas snapshot entry "${name}" was not written`).to.equal(measured);
    return;
  }
  const expected = snapshot[name];
  expect(expected, `no gas snapshot entry "${name}": run with UPDATE_GAS_SNAPSHOT=1`).to.be.a(
    "number",
  );
  const drift = Math.abs(measured - expected!) / expected!;
  expect(
    drift,
    `gas of ${name}: measured ${measured}, snapshot ${expected} (${(drift * 100).toFixed(2)}% drift; ` +
      "UPDATE_GAS_SNAPSHOT=1 rewrites the snapshot)",
  ).to.be.at.most(MAX_DRIFT);
}
