// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAuditAttestations} from "../interfaces/IAuditAttestations.sol";
import {DataAssetRegistry} from "./DataAssetRegistry.sol";

/**
 * @title AuditAttestations
 * @notice Anchored audit seeds and attestations of audited versions; see IAuditAttestations.
 * @dev Storage per version: one slot for the anchored seed, and per attester one entry (two
 * slots) plus its index. The seed is stored once per version, not per attestation: a version
 * has exactly one valid seed, and the AuditAttested event carries it.
 */
abstract contract AuditAttestations is IAuditAttestations, DataAssetRegistry, AccessControl {
    /// @notice May set the minimum number of draws of an attestation.
    bytes32 public constant AUDIT_ADMIN_ROLE = keccak256("AUDIT_ADMIN_ROLE");
    /// @inheritdoc IAuditAttestations
    uint256 public constant AUDIT_SEED_DELAY = 5;
    /**
     * @notice The minimum draws at deployment: protocol/audit.ts DEFAULT_AUDIT_SAMPLES, the
     * `auditor sample` default, at which a tree with 1% of its links malformed passes with
     * probability ≤ 0.99^300 ≈ 4.9% (10%: ≈ 1.9e-14).
     */
    uint32 public constant DEFAULT_MIN_AUDIT_SAMPLES = 300;
    /// @dev blockhash(n) is non-zero only for the 256 blocks before the current one.
    uint256 private constant _BLOCKHASH_WINDOW = 256;

    uint32 private _minAuditSamples = DEFAULT_MIN_AUDIT_SAMPLES;
    mapping(uint256 versionId => bytes32 seed) private _anchoredSeeds;
    mapping(uint256 versionId => Attestation[]) private _attestations;
    mapping(uint256 versionId => mapping(address attester => uint256 indexPlusOne))
        private _attestationIndex;

    /// @inheritdoc IAuditAttestations
    function anchorAuditSeed(uint256 versionId) external returns (bytes32 seed) {
        if (_anchoredSeeds[versionId] != 0) {
            revert AuditSeedAlreadyAnchored(versionId, _anchoredSeeds[versionId]);
        }
        return _anchor(versionId);
    }

    /// @inheritdoc IAuditAttestations
    function attestAudit(
        uint256 versionId,
        bytes32 seed,
        uint32 t,
        bytes32 proofsDigest
    ) external whenNotPaused {
        bytes32 anchored = _anchoredSeeds[versionId];
        if (anchored == 0) anchored = _anchor(versionId);
        if (seed != anchored) revert AuditSeedMismatch(versionId, anchored, seed);
        uint32 minimum = _minAuditSamples;
        if (t < minimum) revert AuditSamplesBelowMinimum(t, minimum);
        Attestation memory entry = Attestation({
            attester: msg.sender,
            t: t,
            attestedBlock: uint48(block.number),
            proofsDigest: proofsDigest
        });
        uint256 at = _attestationIndex[versionId][msg.sender];
        if (at == 0) {
            _attestations[versionId].push(entry);
            _attestationIndex[versionId][msg.sender] = _attestations[versionId].length;
        } else {
            Attestation storage previous = _attestations[versionId][at - 1];
            if (t <= previous.t)
                revert AttestationNotStronger(versionId, msg.sender, previous.t, t);
            _attestations[versionId][at - 1] = entry;
        }
        emit AuditAttested(versionId, msg.sender, seed, t, proofsDigest);
    }

    /// @inheritdoc IAuditAttestations
    function setMinAuditSamples(uint32 minimum) external onlyRole(AUDIT_ADMIN_ROLE) {
        if (minimum == 0) revert InvalidMinAuditSamples(minimum);
        uint32 old = _minAuditSamples;
        _minAuditSamples = minimum;
        emit MinAuditSamplesUpdated(old, minimum);
    }

    /// @inheritdoc IAuditAttestations
    function auditSeedOf(
        uint256 versionId
    ) external view returns (uint256 seedBlock, bytes32 seed, bool anchored) {
        seedBlock = _seedBlock(versionId);
        seed = _anchoredSeeds[versionId];
        anchored = seed != 0;
        if (!anchored) seed = blockhash(seedBlock);
    }

    /// @inheritdoc IAuditAttestations
    function getAuditAttestations(uint256 versionId) external view returns (Attestation[] memory) {
        return _attestations[versionId];
    }

    /// @inheritdoc IAuditAttestations
    function minAuditSamples() external view returns (uint32) {
        return _minAuditSamples;
    }

    /// @dev Stores the seed block's hash, reverting while it is unmined or once it is forgotten.
    function _anchor(uint256 versionId) private returns (bytes32 seed) {
        uint256 seedBlock = _seedBlock(versionId);
        if (block.number <= seedBlock) revert AuditSeedNotYetAvailable(versionId, seedBlock);
        if (block.number - seedBlock > _BLOCKHASH_WINDOW) {
            revert AuditSeedExpired(versionId, seedBlock);
        }
        seed = blockhash(seedBlock);
        _anchoredSeeds[versionId] = seed;
        emit AuditSeedAnchored(versionId, seedBlock, seed);
    }

    /// @dev The seed block of an existing version (VersionNotFound otherwise).
    function _seedBlock(uint256 versionId) private view returns (uint256) {
        Version storage version = _versions[versionId];
        if (version.root == 0) revert VersionNotFound(versionId);
        return uint256(version.publishedBlock) + AUDIT_SEED_DELAY;
    }
}
