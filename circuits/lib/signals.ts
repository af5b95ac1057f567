/**
 * The one TypeScript definition of an answer proof's public signals, the policy hash and
 * the binding value. `contracts/libraries/ProofSignals.sol` is its Solidity twin; see
 * `circuits/PROOF_FORMAT.md` for the meaning of each value.
 */
import { AbiCoder, keccak256 } from "ethers";
import { poseidon3, poseidon4 } from "poseidon-lite";
import { FIELD_COUNT } from "./limits.js";

/** Public signal names, in snarkjs order. */
export const PUBLIC_SIGNALS = [
  "root",
  "policyHash",
  "queryHash",
  "resultCommitment",
  "binding",
] as const;

/** Name of one public signal. */
export type PublicSignalName = (typeof PUBLIC_SIGNALS)[number];

/** Index of each public signal in the snarkjs `publicSignals` array. */
export const SIGNAL_INDEX: Readonly<Record<PublicSignalName, number>> = Object.freeze(
  Object.fromEntries(PUBLIC_SIGNALS.map((name, i) => [name, i])) as Record<
    PublicSignalName,
    number
  >,
);

/** The public signals of one answer proof, as field elements. */
export type AnswerSignals = Record<PublicSignalName, bigint>;

/** BN254 scalar field modulus. */
export const FIELD_MODULUS =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Aggregate kinds a query may ask for (bit index in a policy's aggregateMask). */
export enum AggregateKind {
  Count = 0,
  Sum = 1,
  Avg = 2,
  Min = 3,
  Max = 4,
  RatioPpm = 5,
  ThresholdPpm = 6,
}

/** A grant's usage policy, as stored on-chain and hashed into proofs. */
export interface Policy {
  /** Bit i set: aggregate kind i allowed. */
  aggregateMask: number;
  /**
   * Bit j set: record field j may be aggregated. Bits 8 + 4j + i ({@link cohortMapBits}): field
   * i is the 0/1 field counting the records field j is defined over, so an answer on field j
   * needs field i's sum over the range ≥ k (at most one i per j; none: the range's records).
   */
  fieldMask: number;
  /** Bit j set: record field j may appear in a scan predicate. */
  filterMask: number;
  /** Lowest index key the consumer may query. */
  keyLo: bigint;
  /** Highest index key the consumer may query. */
  keyHi: bigint;
  /** Minimum number of records an answer must cover (k). */
  minCohort: number;
  /**
   * The thresholds a THRESHOLD_PPM query may use: up to {@link MAX_THRESHOLDS} slots, each
   * below 2^48; 0 marks an unused slot (so threshold 0 cannot be allowed). Missing or empty:
   * no THRESHOLD answer is possible. Slot positions count (they are hashed as given, padded
   * with 0 to four).
   */
  thresholds?: readonly bigint[];
}

/** Number of allowed-threshold slots of a policy. */
export const MAX_THRESHOLDS = 4;
/** Bits of one allowed-threshold slot. */
export const THRESHOLD_SLOT_BITS = 48;

const U32 = 2n ** 32n;
const U128 = 2n ** 128n;

/** Packs the three masks into one field element: aggregate + field·2^32 + filter·2^64. */
export function packMasks(policy: Policy): bigint {
  for (const name of ["aggregateMask", "fieldMask", "filterMask", "minCohort"] as const) {
    const v = policy[name];
    if (!Number.isInteger(v) || v < 0 || BigInt(v) >= U32) {
      throw new RangeError(`policy.${name} must be an unsigned 32-bit integer, got ${v}`);
    }
  }
  for (let j = 0; j < FIELD_COUNT; j++) cohortFieldOf(policy, j); // at most one per field
  return (
    BigInt(policy.aggregateMask) +
    BigInt(policy.fieldMask) * U32 +
    BigInt(policy.filterMask) * U32 * U32
  );
}

/** The policy's four threshold slots (0 = unused), checked: each below 2^48. */
export function thresholdSlots(policy: Policy): [bigint, bigint, bigint, bigint] {
  const given = policy.thresholds ?? [];
  if (given.length > MAX_THRESHOLDS) {
    throw new RangeError(
      `policy.thresholds holds at most ${MAX_THRESHOLDS} values, got ${given.length}`,
    );
  }
  for (const t of given) {
    if (typeof t !== "bigint" || t < 0n || t >= 1n << BigInt(THRESHOLD_SLOT_BITS)) {
      throw new RangeError(
        `policy.thresholds must be unsigned ${THRESHOLD_SLOT_BITS}-bit integers, got ${t}`,
      );
    }
  }
  const slots = [...given, 0n, 0n, 0n, 0n];
  return [slots[0]!, slots[1]!, slots[2]!, slots[3]!];
}

/** Whether a THRESHOLD_PPM query at `threshold` is allowed by the policy's threshold slots. */
export function thresholdAllowed(policy: Policy, threshold: bigint): boolean {
  return threshold !== 0n && thresholdSlots(policy).includes(threshold);
}

/**
 * minCohort + thresholds[0]·2^32 + thresholds[1]·2^80 + thresholds[2]·2^128 +
 * thresholds[3]·2^176 (< 2^224): the fourth word of the policy hash.
 */
export function packCohortAndThresholds(policy: Policy): bigint {
  packMasks(policy); // checks minCohort (and the masks) are unsigned 32-bit
  return thresholdSlots(policy).reduce(
    (word, t, i) => word + (t << BigInt(32 + THRESHOLD_SLOT_BITS * i)),
    BigInt(policy.minCohort),
  );
}

/**
 * Poseidon4(packedMasks, keyLo, keyHi, packedCohortAndThresholds): the value a proof's
 * policyHash must equal.
 */
export function policyHash(policy: Policy): bigint {
  if (policy.keyLo < 0n || policy.keyLo >= U128 || policy.keyHi < 0n || policy.keyHi >= U128) {
    throw new RangeError("policy key range must be unsigned 128-bit integers");
  }
  if (policy.keyLo > policy.keyHi) throw new RangeError("policy keyLo must be <= keyHi");
  return poseidon4([
    packMasks(policy),
    policy.keyLo,
    policy.keyHi,
    packCohortAndThresholds(policy),
  ]);
}

/** Poseidon3(resultValue, resultAux, blind): the on-chain commitment to an answer. */
export function resultCommitment(resultValue: bigint, resultAux: bigint, blind: bigint): bigint {
  return poseidon3([resultValue, resultAux, blind]);
}

/**
 * keccak256(abi.encode(chainId, accessLog, grantId, consumer, requestId)) >> 8: ties a proof
 * to one deployment, grant, consumer and request.
 */
export function bindingOf(
  chainId: bigint,
  accessLog: string,
  grantId: bigint,
  consumer: string,
  requestId: string,
): bigint {
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["uint256", "address", "uint256", "address", "bytes32"],
    [chainId, accessLog, grantId, consumer, requestId],
  );
  return BigInt(keccak256(encoded)) >> 8n;
}

/** Reads snarkjs' decimal-string public signals into named field elements. */
export function parseSignals(publicSignals: readonly string[]): AnswerSignals {
  if (publicSignals.length !== PUBLIC_SIGNALS.length) {
    throw new Error(
      `expected ${PUBLIC_SIGNALS.length} public signals, got ${publicSignals.length}`,
    );
  }
  return Object.fromEntries(
    PUBLIC_SIGNALS.map((name, i) => [name, BigInt(publicSignals[i] as string)]),
  ) as AnswerSignals;
}

/** Orders named signals the way snarkjs and the verifier contracts expect them. */
export function signalsToArray(signals: AnswerSignals): bigint[] {
  return PUBLIC_SIGNALS.map((name) => signals[name]);
}

/** circuitId = keccak256(bytes(name)), the key of the on-chain verifier registry. */
export function circuitId(name: string): string {
  return keccak256(new TextEncoder().encode(name));
}

/** First bit of the cohort map in a policy's fieldMask: bit 8 + 4j + i names field j's cohort field i. */
export const COHORT_MAP_SHIFT = 8;

/**
 * The fieldMask bits naming each field's cohort field: `map[j]` = the 0/1 field counting the
 * records field j is defined over (an indicator schema's filter, e.g. late2d → leadTimeKnown),
 * null or missing = field j is defined on every record of the range. OR it into the fieldMask.
 */
export function cohortMapBits(map: readonly (number | null | undefined)[]): number {
  if (map.length > FIELD_COUNT) {
    throw new RangeError(`a cohort map has at most ${FIELD_COUNT} fields`);
  }
  return map.reduce<number>((bits, i, j) => {
    if (i === null || i === undefined) return bits;
    if (!Number.isInteger(i) || i < 0 || i >= FIELD_COUNT) {
      throw new RangeError(`cohort field of field ${j} must be 0..${FIELD_COUNT - 1}, got ${i}`);
    }
    return bits | (1 << (COHORT_MAP_SHIFT + FIELD_COUNT * j + i));
  }, 0);
}

/** The cohort field of field `field` in a policy (null: none, the range's records count). */
export function cohortFieldOf(policy: Pick<Policy, "fieldMask">, field: number): number | null {
  const nibble = (policy.fieldMask >>> (COHORT_MAP_SHIFT + FIELD_COUNT * field)) & 0xf;
  if (nibble === 0) return null;
  if ((nibble & (nibble - 1)) !== 0) {
    throw new RangeError(`policy.fieldMask names more than one cohort field for field ${field}`);
  }
  return Math.log2(nibble);
}

/** The fields an answer aggregates: fieldA unless COUNT, and fieldB for the ratio kinds. */
export function aggregatedFields(query: {
  kind: number;
  fieldA: number;
  fieldB: number;
}): number[] {
  const fields: number[] = [];
  if (query.kind !== AggregateKind.Count) fields.push(query.fieldA);
  if (query.kind === AggregateKind.RatioPpm || query.kind === AggregateKind.ThresholdPpm) {
    fields.push(query.fieldB);
  }
  return fields;
}

/**
 * The cohort of an answer, as the circuit bounds it: the records of the range (`count`), and for
 * the fields the kind aggregates (fieldA unless COUNT, fieldB for the ratio kinds) that have a
 * cohort field, that field's sum over the range. The least of these must reach the grant's k.
 */
export function answerCohort(
  policy: Pick<Policy, "fieldMask">,
  query: { kind: number; fieldA: number; fieldB: number },
  count: bigint,
  sums: readonly bigint[],
): bigint {
  return aggregatedFields(query).reduce((least, f) => {
    const c = cohortFieldOf(policy, f);
    const n = c === null ? count : sums[c]!;
    return n < least ? n : least;
  }, count);
}
