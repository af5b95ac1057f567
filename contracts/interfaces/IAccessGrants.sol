// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ProofSignals} from "../libraries/ProofSignals.sol";

/**
 * @title IAccessGrants
 * @notice Access grants: an asset owner lets a consumer query an asset under a policy (allowed
 * aggregates, fields, filters, key range, minimum cohort k, allowed THRESHOLD thresholds),
 * inside a validity window and up to a query quota. A consumer may request a grant, which the
 * owner approves or rejects. The owner can revoke (effective in the same block) and change quota
 * and expiry.
 * @dev The policy is enforced in-circuit: every answer proof carries `policyHash`, and the
 * access log only checks that it equals the grant's stored policy hash.
 */
interface IAccessGrants {
    /// @notice Life-cycle state of a grant.
    enum GrantStatus {
        None, // no such grant
        Requested, // asked for by the consumer, awaiting the owner
        Active, // issued or approved; usable inside its window while quota is left
        Rejected, // request rejected by the owner (final)
        Revoked // revoked by the owner (final)
    }

    /// @notice A grant, as returned by getGrant.
    struct Grant {
        uint256 assetId;
        address consumer;
        uint48 validFrom; // first valid timestamp (inclusive)
        uint48 validUntil; // last valid timestamp (inclusive)
        uint32 quota; // maximum number of logged answers
        uint32 used; // answers logged so far
        GrantStatus status;
        uint256 policyHash; // Poseidon4 of the policy (ProofSignals.policyHash), the proofs' policyHash
    }

    /// @notice The owner issued an active grant directly.
    event GrantIssued(
        uint256 indexed grantId,
        uint256 indexed assetId,
        address indexed consumer,
        ProofSignals.Policy policy,
        uint256 policyHash,
        uint48 validFrom,
        uint48 validUntil,
        uint32 quota
    );
    /// @notice A consumer requested a grant.
    event GrantRequested(
        uint256 indexed grantId,
        uint256 indexed assetId,
        address indexed consumer,
        ProofSignals.Policy policy,
        uint256 policyHash,
        uint48 validFrom,
        uint48 validUntil,
        uint32 quota
    );
    /// @notice The owner approved a requested grant; it is active.
    event GrantApproved(uint256 indexed grantId, address indexed owner);
    /// @notice The owner rejected a requested grant.
    event GrantRejected(uint256 indexed grantId, address indexed owner);
    /// @notice The owner revoked a grant; it accepts no answer from this block on.
    event GrantRevoked(uint256 indexed grantId, address indexed owner);
    /// @notice A grant's quota changed.
    event GrantQuotaUpdated(uint256 indexed grantId, uint32 oldQuota, uint32 newQuota);
    /// @notice A grant's expiry changed.
    event GrantExpiryUpdated(uint256 indexed grantId, uint48 oldValidUntil, uint48 newValidUntil);

    /// @notice No grant has this id.
    error GrantNotFound(uint256 grantId);
    /// @notice The grant is in `current` state where `expected` is needed.
    error UnexpectedGrantStatus(uint256 grantId, GrantStatus current, GrantStatus expected);
    /// @notice The consumer is the zero address.
    error InvalidConsumer(address consumer);
    /// @notice The validity window is empty (validFrom > validUntil) or already over.
    error InvalidValidity(uint48 validFrom, uint48 validUntil);
    /// @notice The quota is zero.
    error InvalidQuota(uint32 quota);
    /// @notice The policy's key range is empty (keyLo > keyHi).
    error InvalidKeyRange(uint128 keyLo, uint128 keyHi);
    /// @notice The new quota is below the answers the grant has already used.
    error QuotaBelowUsed(uint32 quota, uint32 used);

    /**
     * @notice Issues an active grant on an asset. Only the asset owner; not when retired.
     * @param assetId The asset.
     * @param consumer Who may query (and whose address proofs bind to).
     * @param policy What the consumer may ask.
     * @param validFrom First valid timestamp.
     * @param validUntil Last valid timestamp (>= validFrom, not in the past).
     * @param quota Maximum number of logged answers (> 0).
     * @return grantId The new grant's id (from 1).
     */
    function grantAccess(
        uint256 assetId,
        address consumer,
        ProofSignals.Policy calldata policy,
        uint48 validFrom,
        uint48 validUntil,
        uint32 quota
    ) external returns (uint256 grantId);

    /**
     * @notice Requests a grant on an asset for the sender, for the owner to approve or reject.
     * Not when the asset is retired.
     * @param assetId The asset.
     * @param policy What the sender asks to be allowed.
     * @param validFrom First valid timestamp.
     * @param validUntil Last valid timestamp (>= validFrom, not in the past).
     * @param quota Number of answers asked for (> 0).
     * @return grantId The new grant's id, in Requested state.
     */
    function requestGrant(
        uint256 assetId,
        ProofSignals.Policy calldata policy,
        uint48 validFrom,
        uint48 validUntil,
        uint32 quota
    ) external returns (uint256 grantId);

    /**
     * @notice Approves a requested grant as requested. Only the asset owner; not when retired.
     * @param grantId The grant (Requested).
     */
    function approveGrant(uint256 grantId) external;

    /**
     * @notice Rejects a requested grant. Only the asset owner.
     * @param grantId The grant (Requested).
     */
    function rejectGrant(uint256 grantId) external;

    /**
     * @notice Revokes an active grant, effective in the same block. Only the asset owner.
     * Allowed while paused.
     * @param grantId The grant (Active).
     */
    function revokeGrant(uint256 grantId) external;

    /**
     * @notice Changes an active grant's quota. Only the asset owner. A quota equal to the usage
     * so far exhausts the grant; one below it is refused (QuotaBelowUsed), so that `used <=
     * quota` always holds on-chain and an auditor can read `used > quota` as an overcharge.
     * @param grantId The grant (Active).
     * @param newQuota The new quota (> 0, >= the grant's `used`).
     */
    function updateQuota(uint256 grantId, uint32 newQuota) external;

    /**
     * @notice Changes an active grant's last valid timestamp. Only the asset owner.
     * @param grantId The grant (Active).
     * @param newValidUntil The new last valid timestamp (>= validFrom).
     */
    function updateExpiry(uint256 grantId, uint48 newValidUntil) external;

    /**
     * @notice Reads a grant.
     * @param grantId The grant.
     * @return The grant; reverts with GrantNotFound when it does not exist.
     */
    function getGrant(uint256 grantId) external view returns (Grant memory);

    /**
     * @notice Reads a grant's policy.
     * @param grantId The grant.
     * @return The policy; reverts with GrantNotFound when the grant does not exist.
     */
    function getGrantPolicy(uint256 grantId) external view returns (ProofSignals.Policy memory);

    /**
     * @notice Whether a grant would accept an answer now: active, inside its window, quota
     * left, asset not retired.
     * @param grantId The grant.
     * @return True when usable.
     */
    function isGrantUsable(uint256 grantId) external view returns (bool);

    /**
     * @notice Number of grants created so far (ids run from 1 to this).
     * @return The count.
     */
    function grantCount() external view returns (uint256);
}
