pragma circom 2.2.0;

include "scan_aggregate.circom";

// Production instance: depth 20, window C = 16 (two blocks of 8 leaves), MIN/MAX on field 3.
component main {public [root, policyHash, queryHash, resultCommitment, binding]} = ScanAggregate(20, 3, 3);
