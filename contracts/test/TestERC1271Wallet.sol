// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/**
 * @title TestERC1271Wallet
 * @notice TEST ONLY: a minimal smart-account owner (ERC-1271) whose signer is one EOA, to test
 * that a contract can own an asset and authorise relayed publications.
 */
contract TestERC1271Wallet is IERC1271 {
    address private immutable SIGNER;

    /// @notice The call was not made by the signer.
    error NotSigner(address caller);

    /// @param signer The EOA whose signatures the wallet accepts.
    constructor(address signer) {
        SIGNER = signer;
    }

    /// @notice Makes a call from the wallet. Only the signer.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != SIGNER) revert NotSigner(msg.sender);
        return Address.functionCall(target, data);
    }

    /// @inheritdoc IERC1271
    function isValidSignature(
        bytes32 hash,
        bytes calldata signature
    ) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hash, signature);
        return
            err == ECDSA.RecoverError.NoError && recovered == SIGNER
                ? IERC1271.isValidSignature.selector
                : bytes4(0xffffffff);
    }
}
