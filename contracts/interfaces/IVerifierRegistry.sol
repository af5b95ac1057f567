// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/**
 * @title IVerifierRegistry
 * @notice Maps circuit ids (`keccak256(bytes(name))` of the circuit instance in
 * `circuits/circuits.json`) to snarkjs-generated Groth16 verifier contracts. A registration is
 * permanent, so every log entry's circuit id names one verifier forever; a retired circuit
 * accepts no new entries. Managed by CIRCUIT_ADMIN_ROLE.
 */
interface IVerifierRegistry {
    /// @notice A circuit's verifier entry.
    struct Circuit {
        address verifier;
        bool retired;
    }

    /// @notice A circuit id was bound to a verifier.
    event CircuitRegistered(bytes32 indexed circuitId, address indexed verifier);
    /// @notice A circuit was retired.
    event CircuitRetired(bytes32 indexed circuitId, address indexed verifier);

    /// @notice The circuit id is not registered.
    error UnknownCircuit(bytes32 circuitId);
    /// @notice The circuit id is already registered (registrations are permanent).
    error CircuitAlreadyRegistered(bytes32 circuitId, address verifier);
    /// @notice The circuit is retired.
    error CircuitIsRetired(bytes32 circuitId);
    /// @notice The verifier is not a contract.
    error InvalidVerifier(address verifier);

    /**
     * @notice Binds a circuit id to its verifier, for good. Only CIRCUIT_ADMIN_ROLE.
     * @param circuitId keccak256 of the circuit instance name.
     * @param verifier The Groth16 verifier contract.
     */
    function registerCircuit(bytes32 circuitId, address verifier) external;

    /**
     * @notice Retires a circuit: the log accepts no new entries for it. Only CIRCUIT_ADMIN_ROLE.
     * @param circuitId The circuit.
     */
    function retireCircuit(bytes32 circuitId) external;

    /**
     * @notice Reads a circuit's entry (zero verifier when unknown).
     * @param circuitId The circuit.
     * @return The entry.
     */
    function getCircuit(bytes32 circuitId) external view returns (Circuit memory);
}
