// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IVerifierRegistry} from "../interfaces/IVerifierRegistry.sol";

/**
 * @title VerifierRegistry
 * @notice Circuit id → Groth16 verifier; see IVerifierRegistry.
 */
abstract contract VerifierRegistry is IVerifierRegistry, AccessControl {
    /// @notice May register and retire circuits.
    bytes32 public constant CIRCUIT_ADMIN_ROLE = keccak256("CIRCUIT_ADMIN_ROLE");

    mapping(bytes32 circuitId => Circuit) internal _circuits;

    /// @inheritdoc IVerifierRegistry
    function registerCircuit(
        bytes32 circuitId,
        address verifier
    ) external onlyRole(CIRCUIT_ADMIN_ROLE) {
        address existing = _circuits[circuitId].verifier;
        if (existing != address(0)) revert CircuitAlreadyRegistered(circuitId, existing);
        if (verifier.code.length == 0) revert InvalidVerifier(verifier);
        _circuits[circuitId] = Circuit({verifier: verifier, retired: false});
        emit CircuitRegistered(circuitId, verifier);
    }

    /// @inheritdoc IVerifierRegistry
    function retireCircuit(bytes32 circuitId) external onlyRole(CIRCUIT_ADMIN_ROLE) {
        Circuit storage circuit = _circuits[circuitId];
        if (circuit.verifier == address(0)) revert UnknownCircuit(circuitId);
        if (circuit.retired) revert CircuitIsRetired(circuitId);
        circuit.retired = true;
        emit CircuitRetired(circuitId, circuit.verifier);
    }

    /// @inheritdoc IVerifierRegistry
    function getCircuit(bytes32 circuitId) external view returns (Circuit memory) {
        return _circuits[circuitId];
    }
}
