// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/**
 * @title IAccessLog
 * @notice The proof-carrying access log: an answer is logged only with a valid Groth16 proof
 * for the grant's policy, the version's registered root and the grant's consumer, with the
 * consumer's EIP-712 consent to exactly that question, while the grant is active and has quota
 * left, once per (grant, request id). Anyone (e.g. the gateway) may relay.
 * @dev Request ids are scoped by grant: the log's key is (grantId, requestId), so no other grant
 * or account can occupy or fail a consumer's request id (a second grant's consumer picks its
 * own ids; the proof's binding and the consent both name the grant).
 */
interface IAccessLog {
    /// @notice A Groth16 proof in snarkjs' Solidity call-data order.
    struct Proof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    /**
     * @notice The consumer's consent to log one answer: its EIP-712 signature over
     * `AnswerConsent(uint256 grantId,bytes32 requestId,uint256 versionId,uint256 queryHash)` in
     * PartProof's domain, with `queryHash` the proof's queryHash signal.
     * @dev `versionId` is the version rule the consumer signed: 0 = "the asset's latest version
     * when the answer is logged" (then recordAnswer's versionId must be the latest), otherwise it
     * must equal recordAnswer's versionId. `signature` is checked with OpenZeppelin's
     * SignatureChecker: ECDSA for an EOA consumer, ERC-1271 for a contract wallet.
     */
    struct Consent {
        uint256 versionId;
        bytes signature;
    }

    /**
     * @notice An answer was logged. Carries everything an auditor needs to re-verify the proof
     * from the event alone (the five public signals and the proof, exactly as the verifier took
     * them; check the root against the version, the policy hash against the grant and the
     * binding against ProofSignals.binding of these fields) and nothing from the records.
     * @param grantId The grant.
     * @param consumer The grant's consumer, bound in the proof, who signed the consent.
     * @param requestId The request id (unique per grant).
     * @param versionId The version answered over.
     * @param circuitId The circuit whose verifier accepted the proof.
     * @param used The grant's usage after this answer.
     * @param relayer The sender of the call (a relayer, a multicall or a wallet contract).
     * @param timestamp The block timestamp.
     * @param publicSignals [root, policyHash, queryHash, resultCommitment, binding].
     * @param proof The Groth16 proof the verifier accepted.
     */
    event AnswerRecorded(
        uint256 indexed grantId,
        address indexed consumer,
        bytes32 indexed requestId,
        uint256 versionId,
        bytes32 circuitId,
        uint32 used,
        address relayer,
        uint48 timestamp,
        uint256[5] publicSignals,
        Proof proof
    );

    /// @notice The request id was logged before under this grant.
    error RequestAlreadyLogged(uint256 grantId, bytes32 requestId);
    /// @notice The consent is not the grant consumer's signature over this grant, request id,
    /// version rule and query hash.
    error InvalidConsent(uint256 grantId, bytes32 requestId, address consumer);
    /// @notice The consent names another version than the one answered over.
    error ConsentVersionMismatch(uint256 consentVersionId, uint256 versionId);
    /// @notice The consent asked for the latest version, and the answer is over an older one.
    error VersionNotLatest(uint256 versionId, uint256 latestVersionId);
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
     * @notice Logs an answer after checking its request id, circuit, grant, version, policy
     * hash, consumer binding, the consumer's consent and the proof; increments the grant's
     * usage and emits AnswerRecorded. Anyone may call (a relayer).
     * @param grantId The grant the query was made under.
     * @param versionId The asset version the answer is computed over.
     * @param circuitId The circuit the proof is for.
     * @param requestId The request id bound in the proof (never logged before under this grant).
     * @param proof The Groth16 proof.
     * @param publicSignals [root, policyHash, queryHash, resultCommitment, binding].
     * @param consent The consumer's AnswerConsent signature and the version rule it signed.
     */
    function recordAnswer(
        uint256 grantId,
        uint256 versionId,
        bytes32 circuitId,
        bytes32 requestId,
        Proof calldata proof,
        uint256[5] calldata publicSignals,
        Consent calldata consent
    ) external;

    /**
     * @notice Whether an answer to a request id has been logged under a grant.
     * @param grantId The grant.
     * @param requestId The request id.
     * @return True when logged.
     */
    function isRequestLogged(uint256 grantId, bytes32 requestId) external view returns (bool);

    /**
     * @notice The block in which a grant's request id was logged (0 when not), to find its event.
     * @param grantId The grant.
     * @param requestId The request id.
     * @return The block number.
     */
    function answerBlockOf(uint256 grantId, bytes32 requestId) external view returns (uint256);

    /**
     * @notice The binding value a proof for this grant and request id must carry here.
     * @param grantId The grant (its consumer is read from storage).
     * @param requestId The request id.
     * @return ProofSignals.binding(block.chainid, address(this), grantId, consumer, requestId).
     */
    function bindingFor(uint256 grantId, bytes32 requestId) external view returns (uint256);

    /**
     * @notice The EIP-712 type hash of the consent: keccak256("AnswerConsent(uint256 grantId,
     * bytes32 requestId,uint256 versionId,uint256 queryHash)").
     * @return The type hash.
     */
    // solhint-disable-next-line func-name-mixedcase
    function ANSWER_CONSENT_TYPEHASH() external view returns (bytes32);
}
