// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {PoseidonT5} from "poseidon-solidity/PoseidonT5.sol";

/**
 * @title ProofSignals
 * @notice The one Solidity definition of an answer proof's public signals, the policy hash and
 * the binding value (see `circuits/PROOF_FORMAT.md`). Its TypeScript twin is
 * `circuits/lib/signals.ts`; a test asserts both compute the same values.
 */
library ProofSignals {
    /// @notice Number of public signals of every answer circuit.
    uint256 internal constant COUNT = 5;
    /// @notice Index of the version's Poseidon Merkle-sum root.
    uint256 internal constant ROOT = 0;
    /// @notice Index of the grant's policy hash.
    uint256 internal constant POLICY_HASH = 1;
    /// @notice Index of the query hash.
    uint256 internal constant QUERY_HASH = 2;
    /// @notice Index of the result commitment Poseidon3(resultValue, resultAux, blind).
    uint256 internal constant RESULT_COMMITMENT = 3;
    /// @notice Index of the binding to chain, access log, grant, consumer and request id.
    uint256 internal constant BINDING = 4;

    /// @notice BN254 scalar field modulus: every public signal is smaller.
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /**
     * @notice A grant's usage policy; the circuit enforces a query against its preimage.
     * @dev Field order packs into three storage slots (the thresholds take the third).
     */
    struct Policy {
        uint32 aggregateMask; // bit i: aggregate kind i allowed
        uint32 fieldMask; // bit j: record field j may be aggregated
        uint32 filterMask; // bit j: record field j may appear in a scan predicate
        uint32 minCohort; // k: answers over fewer than k records are refused by the circuit
        uint128 keyLo; // lowest index key the consumer may query
        uint128 keyHi; // highest index key the consumer may query
        uint48[4] thresholds; // THRESHOLD_PPM may ask only these (0 = unused slot; none: no THRESHOLD)
    }

    /// @notice aggregateMask + fieldMask * 2^32 + filterMask * 2^64.
    function packMasks(Policy memory policy) internal pure returns (uint256) {
        return
            uint256(policy.aggregateMask) |
            (uint256(policy.fieldMask) << 32) |
            (uint256(policy.filterMask) << 64);
    }

    /**
     * @notice minCohort + thresholds[0] * 2^32 + thresholds[1] * 2^80 + thresholds[2] * 2^128
     * + thresholds[3] * 2^176 (< 2^224, below the field modulus; no two parts overlap).
     */
    function packCohortAndThresholds(Policy memory policy) internal pure returns (uint256) {
        return
            uint256(policy.minCohort) |
            (uint256(policy.thresholds[0]) << 32) |
            (uint256(policy.thresholds[1]) << 80) |
            (uint256(policy.thresholds[2]) << 128) |
            (uint256(policy.thresholds[3]) << 176);
    }

    /**
     * @notice Poseidon4(packedMasks, keyLo, keyHi, packedCohortAndThresholds): the proof's
     * policyHash signal.
     */
    function policyHash(Policy memory policy) internal pure returns (uint256) {
        return
            PoseidonT5.hash(
                [
                    packMasks(policy),
                    uint256(policy.keyLo),
                    uint256(policy.keyHi),
                    packCohortAndThresholds(policy)
                ]
            );
    }

    /**
     * @notice keccak256(abi.encode(chainId, accessLog, grantId, consumer, requestId)) >> 8:
     * ties a proof to one deployment, grant, consumer and request id.
     */
    function binding(
        uint256 chainId,
        address accessLog,
        uint256 grantId,
        address consumer,
        bytes32 requestId
    ) internal pure returns (uint256) {
        return
            uint256(keccak256(abi.encode(chainId, accessLog, grantId, consumer, requestId))) >> 8;
    }
}
