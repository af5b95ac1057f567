// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/**
 * @title IAuditAttestations
 * @notice Public records that a published version passed t audits by public randomness
 * (protocol/audit.ts): the audit seed of a version is the hash of the block
 * AUDIT_SEED_DELAY blocks after its publication block, a block that did not exist when the tree
 * was built and published. Anyone may anchor that hash here (so that it stays checkable after
 * the EVM forgets it, 256 blocks later) and anyone may attest that the version passed t audits
 * for it. The contract checks the seed and that t meets the minimum; the AuditPath proofs
 * themselves are verified off-chain by the attester, whose claim the attestation is (its
 * `proofsDigest` names the proofs it checked, so that whoever holds them can check the claim).
 * @dev The seed block of a version is `publishedBlock + AUDIT_SEED_DELAY`. Its hash is known to
 * the EVM only while `seedBlock < block.number <= seedBlock + 256`: anchoring (explicitly, or by
 * the first attestation) must happen in that window, after which an unanchored version cannot
 * be attested any more (a later block's hash would let the anchoring party pick its seed).
 */
interface IAuditAttestations {
    /// @notice One attester's record for one version.
    struct Attestation {
        address attester; // the sender of attestAudit: whose claim this is
        uint32 t; // draws audited, each with a proof that verified off-chain
        uint48 attestedBlock; // block of the (latest) attestation
        bytes32 proofsDigest; // protocol/audit.ts auditProofsDigest of the proofs checked
    }

    /// @notice The audit seed of a version was stored for good.
    event AuditSeedAnchored(uint256 indexed versionId, uint256 seedBlock, bytes32 seed);
    /**
     * @notice `attester` recorded that version `versionId` passed `t` audits for `seed`
     * (a first attestation, or a stronger one replacing its earlier entry).
     */
    event AuditAttested(
        uint256 indexed versionId,
        address indexed attester,
        bytes32 seed,
        uint32 t,
        bytes32 proofsDigest
    );
    /// @notice The minimum number of draws of an attestation changed.
    event MinAuditSamplesUpdated(uint32 oldMinimum, uint32 newMinimum);

    /// @notice The seed block is not mined yet (its hash is unknown until a later block).
    error AuditSeedNotYetAvailable(uint256 versionId, uint256 seedBlock);
    /// @notice The seed block is more than 256 blocks old and its hash was never anchored.
    error AuditSeedExpired(uint256 versionId, uint256 seedBlock);
    /// @notice The seed of this version is anchored already.
    error AuditSeedAlreadyAnchored(uint256 versionId, bytes32 seed);
    /// @notice The attested seed is not the version's seed block hash.
    error AuditSeedMismatch(uint256 versionId, bytes32 expected, bytes32 actual);
    /// @notice An attestation with fewer draws than the minimum.
    error AuditSamplesBelowMinimum(uint32 t, uint32 minimum);
    /// @notice The attester attested this version before with at least as many draws.
    error AttestationNotStronger(uint256 versionId, address attester, uint32 previousT, uint32 t);
    /// @notice A minimum of zero draws.
    error InvalidMinAuditSamples(uint32 minimum);

    /**
     * @notice Stores the audit seed of a version for good: the hash of block
     * `publishedBlock + AUDIT_SEED_DELAY`. Anyone may call, also while paused (it records a
     * public fact, and a pause must not let seeds expire), once the seed block is mined and at
     * most 256 blocks after it.
     * @param versionId The version.
     * @return seed The anchored seed.
     */
    function anchorAuditSeed(uint256 versionId) external returns (bytes32 seed);

    /**
     * @notice Records that the sender verified `t` AuditPath proofs of version `versionId` for
     * the challenge of `seed` (protocol/audit.ts auditIndices / auditChallenge). Checks that the
     * version exists, that `seed` is its seed block's hash (anchoring it when not yet anchored)
     * and that `t` is at least minAuditSamples. One entry per attester and version: the same
     * attester again only with a larger t (with one seed, t' > t draws include the first t), and
     * the entry is replaced. Anyone may call; not while paused.
     * @param versionId The version.
     * @param seed The seed the audit's indices and challenge were derived from.
     * @param t The number of draws whose proofs verified.
     * @param proofsDigest protocol/audit.ts auditProofsDigest of the proofs checked.
     */
    function attestAudit(uint256 versionId, bytes32 seed, uint32 t, bytes32 proofsDigest) external;

    /**
     * @notice Sets the minimum number of draws of an attestation. Only AUDIT_ADMIN_ROLE.
     * Attestations recorded before keep their t; readers compare it with their own bar.
     * @param minimum The new minimum (at least 1).
     */
    function setMinAuditSamples(uint32 minimum) external;

    /**
     * @notice The audit seed of a version.
     * @param versionId The version (reverts with VersionNotFound when it does not exist).
     * @return seedBlock `publishedBlock + AUDIT_SEED_DELAY`.
     * @return seed The anchored seed, else the seed block's hash while the EVM knows it, else 0.
     * @return anchored Whether the seed is stored for good.
     */
    function auditSeedOf(
        uint256 versionId
    ) external view returns (uint256 seedBlock, bytes32 seed, bool anchored);

    /**
     * @notice Every attester's record of a version, in order of first attestation.
     * @param versionId The version.
     * @return The attestations (empty when none).
     */
    function getAuditAttestations(uint256 versionId) external view returns (Attestation[] memory);

    /**
     * @notice The minimum number of draws an attestation must claim.
     * @return The minimum.
     */
    function minAuditSamples() external view returns (uint32);

    /**
     * @notice Blocks between a version's publication block and its seed block.
     * @return 5 (protocol/audit.ts DEFAULT_AUDIT_DELAY_BLOCKS).
     */
    // solhint-disable-next-line func-name-mixedcase
    function AUDIT_SEED_DELAY() external view returns (uint256);
}
