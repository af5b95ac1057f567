// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/**
 * @title IGroth16Verifier
 * @notice The interface of the Groth16 verifier contracts that snarkjs 0.7 generates for the
 * answer circuits (five public signals, see `circuits/PROOF_FORMAT.md`).
 */
interface IGroth16Verifier {
    /**
     * @notice Checks a Groth16 proof against the circuit's verifying key.
     * @param _pA Proof point A (G1).
     * @param _pB Proof point B (G2), coordinates in snarkjs' Solidity call-data order.
     * @param _pC Proof point C (G1).
     * @param _pubSignals The public signals, each smaller than the BN254 scalar field modulus.
     * @return True when the proof is valid for these public signals.
     */
    function verifyProof(
        uint256[2] calldata _pA,
        uint256[2][2] calldata _pB,
        uint256[2] calldata _pC,
        uint256[5] calldata _pubSignals
    ) external view returns (bool);
}
