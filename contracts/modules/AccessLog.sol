// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAccessLog} from "../interfaces/IAccessLog.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {ProofSignals} from "../libraries/ProofSignals.sol";
import {AccessGrants} from "./AccessGrants.sol";
import {VerifierRegistry} from "./VerifierRegistry.sol";

/**
 * @title AccessLog
 * @notice The proof-carrying access log; see IAccessLog.
 * @dev Policy checks (allowed aggregates, fields, filters, key range, minimum cohort) are proven
 * in-circuit against the policy preimage; this contract only checks that the proof's
 * policyHash equals the grant's stored one. recordAnswer reads 7 cold slots (pause flag,
 * circuit, grant ×3, asset, version root) and writes one new slot (the request id), to stay
 * under 300k gas with Groth16 verification.
 */
abstract contract AccessLog is IAccessLog, AccessGrants, VerifierRegistry {
    mapping(bytes32 requestId => uint256 blockNumber) private _answerBlocks;

    /// @inheritdoc IAccessLog
    function recordAnswer(
        uint256 grantId,
        uint256 versionId,
        bytes32 circuitId,
        bytes32 requestId,
        Proof calldata proof,
        uint256[5] calldata publicSignals
    ) external whenNotPaused {
        if (_answerBlocks[requestId] != 0) revert RequestAlreadyLogged(requestId);
        address verifier = _liveVerifier(circuitId);
        GrantRecord storage grant = _grants[grantId];
        uint32 used = _checkGrantUsable(grantId, grant);
        address consumer = grant.consumer;
        _checkVersion(versionId, grant.assetId, publicSignals[ProofSignals.ROOT]);
        _checkPolicyAndBinding(grantId, grant.policyHash, consumer, requestId, publicSignals);
        if (!IGroth16Verifier(verifier).verifyProof(proof.a, proof.b, proof.c, publicSignals)) {
            revert InvalidProof(circuitId);
        }

        _answerBlocks[requestId] = block.number;
        grant.used = ++used;
        emit AnswerRecorded(
            grantId,
            consumer,
            requestId,
            versionId,
            circuitId,
            publicSignals[ProofSignals.QUERY_HASH],
            publicSignals[ProofSignals.RESULT_COMMITMENT],
            used,
            msg.sender,
            uint48(block.timestamp)
        );
    }

    /// @inheritdoc IAccessLog
    function isRequestLogged(bytes32 requestId) external view returns (bool) {
        return _answerBlocks[requestId] != 0;
    }

    /// @inheritdoc IAccessLog
    function answerBlockOf(bytes32 requestId) external view returns (uint256) {
        return _answerBlocks[requestId];
    }

    /// @inheritdoc IAccessLog
    function bindingFor(uint256 grantId, bytes32 requestId) external view returns (uint256) {
        return
            ProofSignals.binding(
                block.chainid,
                address(this),
                grantId,
                _existingGrant(grantId).consumer,
                requestId
            );
    }

    /// @dev The circuit's verifier, reverting unless it is registered and not retired.
    function _liveVerifier(bytes32 circuitId) private view returns (address) {
        Circuit memory circuit = _circuits[circuitId];
        if (circuit.verifier == address(0)) revert UnknownCircuit(circuitId);
        if (circuit.retired) revert CircuitIsRetired(circuitId);
        return circuit.verifier;
    }

    /// @dev Reverts unless the proof carries the grant's policy hash and this request's binding.
    function _checkPolicyAndBinding(
        uint256 grantId,
        uint256 policyHash,
        address consumer,
        bytes32 requestId,
        uint256[5] calldata publicSignals
    ) private view {
        if (publicSignals[ProofSignals.POLICY_HASH] != policyHash) {
            revert PolicyHashMismatch(grantId, policyHash, publicSignals[ProofSignals.POLICY_HASH]);
        }
        uint256 expected = ProofSignals.binding(
            block.chainid,
            address(this),
            grantId,
            consumer,
            requestId
        );
        if (publicSignals[ProofSignals.BINDING] != expected) {
            revert BindingMismatch(expected, publicSignals[ProofSignals.BINDING]);
        }
    }

    /// @dev Reverts unless the grant is active, inside its window and has quota; returns usage.
    function _checkGrantUsable(
        uint256 grantId,
        GrantRecord storage grant
    ) private view returns (uint32 used) {
        GrantStatus status = grant.status;
        if (status != GrantStatus.Active) {
            if (status == GrantStatus.None) revert GrantNotFound(grantId);
            revert UnexpectedGrantStatus(grantId, status, GrantStatus.Active);
        }
        if (block.timestamp < grant.validFrom) revert GrantNotYetValid(grantId, grant.validFrom);
        if (block.timestamp > grant.validUntil) revert GrantExpired(grantId, grant.validUntil);
        used = grant.used;
        if (used >= grant.quota) revert GrantQuotaExhausted(grantId, grant.quota);
    }

    /// @dev Reverts unless the version exists, belongs to `assetId` (live) and has `root`.
    function _checkVersion(uint256 versionId, uint256 assetId, uint256 root) private view {
        if (versionId >> 64 != assetId) revert VersionNotOfAsset(versionId, assetId);
        if (_assets[assetId].retired) revert AssetIsRetired(assetId);
        uint256 registered = _versions[versionId].root;
        if (registered == 0) revert VersionNotFound(versionId);
        if (registered != root) revert RootMismatch(versionId, registered, root);
    }
}
