// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/**
 * @title IAccessLog
 * @notice The proof-carrying access log: an answer is logged only with a valid Groth16 proof
 * for the grant's policy, the version's registered root and the grant's consumer, while the
 * grant is active and has quota left, once per request id. Anyone (e.g. the gateway) may relay.
 */
interface IAccessLog {
    /// @notice A Groth16 proof in snarkjs' Solidity call-data order.
    struct Proof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    /**
     * @notice An answer was logged. Carries everything an auditor needs to re-verify the proof
     * (with the version's root, the grant's policy hash and the binding recomputed from these
     * fields) and nothing from the records.
     * @param grantId The grant.
     * @param consumer The grant's consumer, bound in the proof.
     * @param requestId The request id (unique per deployment).
     * @param versionId The version answered over.
     * @param circuitId The circuit whose verifier accepted the proof.
     * @param queryHash Hash of the exact query.
     * @param resultCommitment Commitment to the answer (only the consumer can open it).
     * @param used The grant's usage after this answer.
     * @param relayer The sender of the transaction.
     * @param timestamp The block timestamp.
     */
    event AnswerRecorded(
        uint256 indexed grantId,
        address indexed consumer,
        bytes32 indexed requestId,
        uint256 versionId,
        bytes32 circuitId,
        uint256 queryHash,
        uint256 resultCommitment,
        uint32 used,
        address relayer,
        uint48 timestamp
    );

    /// @notice The request id was logged before.
    error RequestAlreadyLogged(bytes32 requestId);
    /// @notice The grant is not yet valid.
    error GrantNotYetValid(uint256 grantId, uint48 validFrom);
    /// @notice The grant has expired.
    error GrantExpired(uint256 grantId, uint48 validUntil);
    /// @notice The grant has no quota left.
    error GrantQuotaExhausted(uint256 grantId, uint32 quota);
    /// @notice The version belongs to another asset than the grant's.
    error VersionNotOfAsset(uint256 versionId, uint256 assetId);
    /// @notice The proof's root is not the version's registered root.
    error RootMismatch(uint256 versionId, uint256 expected, uint256 actual);
    /// @notice The proof's policy hash is not the grant's.
    error PolicyHashMismatch(uint256 grantId, uint256 expected, uint256 actual);
    /// @notice The proof is bound to another chain, log, grant, consumer or request id.
    error BindingMismatch(uint256 expected, uint256 actual);
    /// @notice The verifier rejected the proof.
    error InvalidProof(bytes32 circuitId);

    /**
     * @notice Logs an answer after checking its proof, grant, consumer binding, version root
     * and request id; increments the grant's usage. Anyone may call (a relayer).
     * @param grantId The grant the query was made under.
     * @param versionId The asset version the answer is computed over.
     * @param circuitId The circuit the proof is for.
     * @param requestId The request id bound in the proof (never logged before).
     * @param proof The Groth16 proof.
     * @param publicSignals [root, policyHash, queryHash, resultCommitment, binding].
     */
    function recordAnswer(
        uint256 grantId,
        uint256 versionId,
        bytes32 circuitId,
        bytes32 requestId,
        Proof calldata proof,
        uint256[5] calldata publicSignals
    ) external;

    /**
     * @notice Whether a request id has been logged.
     * @param requestId The request id.
     * @return True when logged.
     */
    function isRequestLogged(bytes32 requestId) external view returns (bool);

    /**
     * @notice The block in which a request id was logged (0 when not), to find its event.
     * @param requestId The request id.
     * @return The block number.
     */
    function answerBlockOf(bytes32 requestId) external view returns (uint256);

    /**
     * @notice The binding value a proof for this grant and request id must carry here.
     * @param grantId The grant (its consumer is read from storage).
     * @param requestId The request id.
     * @return ProofSignals.binding(block.chainid, address(this), grantId, consumer, requestId).
     */
    function bindingFor(uint256 grantId, bytes32 requestId) external view returns (uint256);
}
