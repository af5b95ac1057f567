// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAccessGrants} from "../interfaces/IAccessGrants.sol";
import {ProofSignals} from "../libraries/ProofSignals.sol";
import {DataAssetRegistry} from "./DataAssetRegistry.sol";

/**
 * @title AccessGrants
 * @notice Grants on assets; see IAccessGrants. The policy hash is computed once, when the grant
 * is created, and stored next to the policy.
 */
abstract contract AccessGrants is IAccessGrants, DataAssetRegistry {
    /// @dev Storage layout of a grant: the fields recordAnswer reads fill three slots.
    struct GrantRecord {
        address consumer; // slot 0
        uint48 validFrom;
        uint48 validUntil;
        uint64 assetId; // slot 1
        uint32 quota;
        uint32 used;
        GrantStatus status;
        uint256 policyHash; // slot 2
    }

    uint256 private _grantCount;
    mapping(uint256 grantId => GrantRecord) internal _grants;
    mapping(uint256 grantId => ProofSignals.Policy) private _policies;

    /// @inheritdoc IAccessGrants
    function grantAccess(
        uint256 assetId,
        address consumer,
        ProofSignals.Policy calldata policy,
        uint48 validFrom,
        uint48 validUntil,
        uint32 quota
    ) external whenNotPaused onlyAssetOwner(assetId) returns (uint256 grantId) {
        if (consumer == address(0)) revert InvalidConsumer(consumer);
        uint256 hash;
        (grantId, hash) = _create(
            assetId,
            consumer,
            policy,
            validFrom,
            validUntil,
            quota,
            GrantStatus.Active
        );
        emit GrantIssued(grantId, assetId, consumer, policy, hash, validFrom, validUntil, quota);
    }

    /// @inheritdoc IAccessGrants
    function requestGrant(
        uint256 assetId,
        ProofSignals.Policy calldata policy,
        uint48 validFrom,
        uint48 validUntil,
        uint32 quota
    ) external whenNotPaused returns (uint256 grantId) {
        uint256 hash;
        (grantId, hash) = _create(
            assetId,
            msg.sender,
            policy,
            validFrom,
            validUntil,
            quota,
            GrantStatus.Requested
        );
        emit GrantRequested(
            grantId,
            assetId,
            msg.sender,
            policy,
            hash,
            validFrom,
            validUntil,
            quota
        );
    }

    /// @inheritdoc IAccessGrants
    function approveGrant(uint256 grantId) external whenNotPaused {
        GrantRecord storage grant = _ownedGrant(grantId, GrantStatus.Requested);
        _liveAsset(grant.assetId);
        grant.status = GrantStatus.Active;
        emit GrantApproved(grantId, msg.sender);
    }

    /// @inheritdoc IAccessGrants
    function rejectGrant(uint256 grantId) external whenNotPaused {
        _ownedGrant(grantId, GrantStatus.Requested).status = GrantStatus.Rejected;
        emit GrantRejected(grantId, msg.sender);
    }

    /// @inheritdoc IAccessGrants
    function revokeGrant(uint256 grantId) external {
        _ownedGrant(grantId, GrantStatus.Active).status = GrantStatus.Revoked;
        emit GrantRevoked(grantId, msg.sender);
    }

    /// @inheritdoc IAccessGrants
    function updateQuota(uint256 grantId, uint32 newQuota) external whenNotPaused {
        if (newQuota == 0) revert InvalidQuota(newQuota);
        GrantRecord storage grant = _ownedGrant(grantId, GrantStatus.Active);
        if (newQuota < grant.used) revert QuotaBelowUsed(newQuota, grant.used);
        uint32 old = grant.quota;
        grant.quota = newQuota;
        emit GrantQuotaUpdated(grantId, old, newQuota);
    }

    /// @inheritdoc IAccessGrants
    function updateExpiry(uint256 grantId, uint48 newValidUntil) external whenNotPaused {
        GrantRecord storage grant = _ownedGrant(grantId, GrantStatus.Active);
        if (newValidUntil < grant.validFrom) revert InvalidValidity(grant.validFrom, newValidUntil);
        uint48 old = grant.validUntil;
        grant.validUntil = newValidUntil;
        emit GrantExpiryUpdated(grantId, old, newValidUntil);
    }

    /// @inheritdoc IAccessGrants
    function getGrant(uint256 grantId) external view returns (Grant memory) {
        GrantRecord storage grant = _existingGrant(grantId);
        return
            Grant({
                assetId: grant.assetId,
                consumer: grant.consumer,
                validFrom: grant.validFrom,
                validUntil: grant.validUntil,
                quota: grant.quota,
                used: grant.used,
                status: grant.status,
                policyHash: grant.policyHash
            });
    }

    /// @inheritdoc IAccessGrants
    function getGrantPolicy(uint256 grantId) external view returns (ProofSignals.Policy memory) {
        _existingGrant(grantId);
        return _policies[grantId];
    }

    /// @inheritdoc IAccessGrants
    function isGrantUsable(uint256 grantId) external view returns (bool) {
        GrantRecord storage grant = _grants[grantId];
        return
            grant.status == GrantStatus.Active &&
            block.timestamp >= grant.validFrom &&
            block.timestamp <= grant.validUntil &&
            grant.used < grant.quota &&
            !_assets[grant.assetId].retired;
    }

    /// @inheritdoc IAccessGrants
    function grantCount() external view returns (uint256) {
        return _grantCount;
    }

    /// @dev Validates and stores a new grant on a live asset; returns its id and policy hash.
    function _create(
        uint256 assetId,
        address consumer,
        ProofSignals.Policy calldata policy,
        uint48 validFrom,
        uint48 validUntil,
        uint32 quota,
        GrantStatus status
    ) private returns (uint256 grantId, uint256 hash) {
        _liveAsset(assetId);
        if (validFrom > validUntil || validUntil < block.timestamp) {
            revert InvalidValidity(validFrom, validUntil);
        }
        if (quota == 0) revert InvalidQuota(quota);
        if (policy.keyLo > policy.keyHi) revert InvalidKeyRange(policy.keyLo, policy.keyHi);
        hash = ProofSignals.policyHash(policy);
        grantId = ++_grantCount;
        _grants[grantId] = GrantRecord({
            consumer: consumer,
            validFrom: validFrom,
            validUntil: validUntil,
            assetId: uint64(assetId),
            quota: quota,
            used: 0,
            status: status,
            policyHash: hash
        });
        _policies[grantId] = policy;
    }

    /// @dev The existing grant, reverting with GrantNotFound otherwise.
    function _existingGrant(uint256 grantId) internal view returns (GrantRecord storage grant) {
        grant = _grants[grantId];
        if (grant.status == GrantStatus.None) revert GrantNotFound(grantId);
    }

    /// @dev The grant, if the sender owns its asset and it is in state `expected`.
    function _ownedGrant(
        uint256 grantId,
        GrantStatus expected
    ) private view returns (GrantRecord storage grant) {
        grant = _existingGrant(grantId);
        _checkAssetOwner(grant.assetId, msg.sender);
        if (grant.status != expected) revert UnexpectedGrantStatus(grantId, grant.status, expected);
    }
}
