// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ProofSignals} from "../libraries/ProofSignals.sol";

/// @notice Test-only: exposes the internal ProofSignals functions for the TS/Solidity twin test.
contract ProofSignalsHarness {
    /// @notice See ProofSignals.policyHash.
    function policyHash(ProofSignals.Policy calldata policy) external pure returns (uint256) {
        return ProofSignals.policyHash(policy);
    }

    /// @notice See ProofSignals.packMasks.
    function packMasks(ProofSignals.Policy calldata policy) external pure returns (uint256) {
        return ProofSignals.packMasks(policy);
    }

    /// @notice See ProofSignals.packCohortAndThresholds.
    function packCohortAndThresholds(
        ProofSignals.Policy calldata policy
    ) external pure returns (uint256) {
        return ProofSignals.packCohortAndThresholds(policy);
    }

    /// @notice See ProofSignals.binding.
    function binding(
        uint256 chainId,
        address accessLog,
        uint256 grantId,
        address consumer,
        bytes32 requestId
    ) external pure returns (uint256) {
        return ProofSignals.binding(chainId, accessLog, grantId, consumer, requestId);
    }

    /// @notice The signal indices, in order: root, policyHash, queryHash, resultCommitment, binding.
    function indices() external pure returns (uint256[6] memory) {
        return
            [
                ProofSignals.ROOT,
                ProofSignals.POLICY_HASH,
                ProofSignals.QUERY_HASH,
                ProofSignals.RESULT_COMMITMENT,
                ProofSignals.BINDING,
                ProofSignals.COUNT
            ];
    }
}
