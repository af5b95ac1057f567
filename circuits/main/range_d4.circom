pragma circom 2.2.0;

include "range_aggregate.circom";

// Test instance: depth 4 (up to 14 records), MIN/MAX on field 3.
component main {public [root, policyHash, queryHash, resultCommitment, binding]} = RangeAggregate(4, 3);
