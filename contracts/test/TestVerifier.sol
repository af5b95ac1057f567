// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";

/**
 * @title TestVerifier
 * @notice TEST ONLY, never deployed by the Ignition module or the deploy script: a stand-in
 * Groth16 verifier whose answer is set by the test, for the access-log paths that are not
 * about proof validity. Real proofs are tested against the snarkjs-generated verifiers.
 */
contract TestVerifier is IGroth16Verifier {
    bool private _accept = true;

    /// @notice Sets what verifyProof returns.
    function setAccept(bool accept) external {
        _accept = accept;
    }

    /// @inheritdoc IGroth16Verifier
    function verifyProof(
        uint256[2] calldata,
        uint256[2][2] calldata,
        uint256[2] calldata,
        uint256[5] calldata
    ) external view returns (bool) {
        return _accept;
    }
}
