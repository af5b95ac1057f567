// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

contract Placeholder {
    function x() external pure returns (uint256) {
        return 1;
    }
}
