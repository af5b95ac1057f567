// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/**
 * @title TestMulticall
 * @notice TEST ONLY: batches calls to one target in one transaction, as a multicall contract or a
 * smart-contract wallet does. An entry logged through it cannot be found by decoding the
 * transaction's call data as a recordAnswer call, so auditors must re-verify from events alone.
 */
contract TestMulticall {
    /**
     * @notice Calls `target` with each of `calls` in order; reverts with the first failure's
     * reason.
     * @return results The return data of each call.
     */
    function multicall(
        address target,
        bytes[] calldata calls
    ) external returns (bytes[] memory results) {
        results = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            results[i] = Address.functionCall(target, calls[i]);
        }
    }
}
