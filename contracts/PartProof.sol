// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {AccessLog} from "./modules/AccessLog.sol";
import {AuditAttestations} from "./modules/AuditAttestations.sol";

/**
 * @title PartProof
 * @notice One deployment of the PartProof registry: data assets and versions, access grants,
 * the Groth16 verifier registry, the proof-carrying access log and the attestations of audited
 * versions, in one contract so that recordAnswer reads everything from local storage.
 * @dev Roles: DEFAULT_ADMIN_ROLE manages roles; CIRCUIT_ADMIN_ROLE registers and retires
 * circuits; PAUSER_ROLE pauses and unpauses; AUDIT_ADMIN_ROLE sets the minimum draws of an
 * audit attestation. Pausing stops every state change except revokeGrant and retireAsset
 * (safety actions), anchorAuditSeed (a public fact that would otherwise expire) and the admin
 * functions.
 * Links the PoseidonT5 library (poseidon-solidity) for policy hashes.
 */
contract PartProof is AccessLog, AuditAttestations {
    /// @notice May pause and unpause.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice The zero address was given as admin.
    error InvalidAdmin(address admin);

    /**
     * @notice Deploys with `admin` holding DEFAULT_ADMIN_ROLE, CIRCUIT_ADMIN_ROLE, PAUSER_ROLE
     * and AUDIT_ADMIN_ROLE (hand the latter three to others and renounce as needed).
     * @param admin The initial administrator.
     */
    constructor(address admin) EIP712("PartProof", "1") {
        if (admin == address(0)) revert InvalidAdmin(admin);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(CIRCUIT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        _grantRole(AUDIT_ADMIN_ROLE, admin);
    }

    /// @notice Stops every state change except revocation, retirement and admin functions.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Lifts the pause.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }
}
