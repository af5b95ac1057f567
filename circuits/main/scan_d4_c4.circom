pragma circom 2.2.0;

include "scan_aggregate.circom";

// Test instance: depth 4, window C = 4 (two blocks of 2 leaves), MIN/MAX on field 3.
component main {public [root, policyHash, queryHash, resultCommitment, binding]} = ScanAggregate(4, 1, 3);
