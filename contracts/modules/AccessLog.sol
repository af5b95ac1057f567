// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
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
 * circuit, grant ×3, asset, version root), checks one signature and writes one new slot (the
 * (grant, request id) entry); the event carries the proof and its signals for auditors.
 */
abstract contract AccessLog is IAccessLog, AccessGrants, VerifierRegistry {
    /// @inheritdoc IAccessLog
    // solhint-disable-next-line gas-small-strings
    bytes32 public constant ANSWER_CONSENT_TYPEHASH = keccak256(
        "AnswerConsent(uint256 grantId,bytes32 requestId,uint256 versionId,uint256 queryHash)"
    );

    mapping(uint256 grantId => mapping(bytes32 requestId => uint256 blockNumber))
        private _answerBlocks;

    /// @inheritdoc IAccessLog
    function recordAnswer(
        uint256 grantId,
        uint256 versionId,
        bytes32 circuitId,
        bytes32 requestId,
        Proof calldata proof,
        uint256[5] calldata publicSignals,
        Consent calldata consent
    ) external whenNotPaused {
        GrantRecord storage grant = _grants[grantId];
        address verifier = _checkEntry(
            grantId,
            versionId,
            circuitId,
            requestId,
            publicSignals,
            consent
        );
        if (!IGroth16Verifier(verifier).verifyProof(proof.a, proof.b, proof.c, publicSignals)) {
            revert InvalidProof(circuitId);
        }

        _answerBlocks[grantId][requestId] = block.number;
        uint32 used = grant.used + 1;
        grant.used = used;
        emit AnswerRecorded(
            grantId,
            grant.consumer,
            requestId,
            versionId,
            circuitId,
            used,
            msg.sender,
            uint48(block.timestamp),
            publicSignals,
            proof
        );
    }

    /// @inheritdoc IAccessLog
    function isRequestLogged(uint256 grantId, bytes32 requestId) external view returns (bool) {
        return _answerBlocks[grantId][requestId] != 0;
    }

    /// @inheritdoc IAccessLog
    function answerBlockOf(uint256 grantId, bytes32 requestId) external view returns (uint256) {
        return _answerBlocks[grantId][requestId];
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

    /**
     * @dev Every check of recordAnswer but the proof's: request id unused under the grant,
     * circuit live, grant usable, version (and the consent's version rule), policy hash,
     * binding and consent. Returns the circuit's verifier.
     */
    function _checkEntry(
        uint256 grantId,
        uint256 versionId,
        bytes32 circuitId,
        bytes32 requestId,
        uint256[5] calldata publicSignals,
        Consent calldata consent
    ) private view returns (address verifier) {
        if (_answerBlocks[grantId][requestId] != 0) revert RequestAlreadyLogged(grantId, requestId);
        verifier = _liveVerifier(circuitId);
        GrantRecord storage grant = _grants[grantId];
        _checkGrantUsable(grantId, grant);
        address consumer = grant.consumer;
        _checkVersion(
            versionId,
            grant.assetId,
            publicSignals[ProofSignals.ROOT],
            consent.versionId
        );
        _checkPolicyAndBinding(grantId, grant.policyHash, consumer, requestId, publicSignals);
        _checkConsent(
            grantId,
            requestId,
            consumer,
            publicSignals[ProofSignals.QUERY_HASH],
            consent
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

    /// @dev Reverts unless the grant is active, inside its window and has quota.
    function _checkGrantUsable(uint256 grantId, GrantRecord storage grant) private view {
        GrantStatus status = grant.status;
        if (status != GrantStatus.Active) {
            if (status == GrantStatus.None) revert GrantNotFound(grantId);
            revert UnexpectedGrantStatus(grantId, status, GrantStatus.Active);
        }
        if (block.timestamp < grant.validFrom) revert GrantNotYetValid(grantId, grant.validFrom);
        if (block.timestamp > grant.validUntil) revert GrantExpired(grantId, grant.validUntil);
        if (grant.used >= grant.quota) revert GrantQuotaExhausted(grantId, grant.quota);
    }

    /**
     * @dev Reverts unless `consent` is the consumer's signature (ECDSA or ERC-1271) over this
     * grant, request id, the signed version rule and the proof's query hash. The version rule
     * itself is checked by _checkVersion.
     */
    function _checkConsent(
        uint256 grantId,
        bytes32 requestId,
        address consumer,
        uint256 queryHash,
        Consent calldata consent
    ) private view {
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ANSWER_CONSENT_TYPEHASH,
                    grantId,
                    requestId,
                    consent.versionId,
                    queryHash
                )
            )
        );
        if (!SignatureChecker.isValidSignatureNow(consumer, digest, consent.signature)) {
            revert InvalidConsent(grantId, requestId, consumer);
        }
    }

    /**
     * @dev Reverts unless the version exists, belongs to `assetId` (live), has `root` and
     * follows the consent's version rule (`consentVersionId` 0 = the asset's latest version,
     * else exactly that version).
     */
    function _checkVersion(
        uint256 versionId,
        uint256 assetId,
        uint256 root,
        uint256 consentVersionId
    ) private view {
        if (versionId >> 64 != assetId) revert VersionNotOfAsset(versionId, assetId);
        Asset storage asset = _assets[assetId];
        if (asset.retired) revert AssetIsRetired(assetId);
        uint256 registered = _versions[versionId].root;
        if (registered == 0) revert VersionNotFound(versionId);
        if (registered != root) revert RootMismatch(versionId, registered, root);
        if (consentVersionId == 0) {
            uint256 latest = versionIdOf(assetId, asset.versionCount);
            if (versionId != latest) revert VersionNotLatest(versionId, latest);
        } else if (consentVersionId != versionId) {
            revert ConsentVersionMismatch(consentVersionId, versionId);
        }
    }
}
