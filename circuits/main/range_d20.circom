pragma circom 2.2.0;

include "range_aggregate.circom";

// Production instance: depth 20 (up to 2^20 - 2 = 1,048,574 records), MIN/MAX on field 3.
component main {public [root, policyHash, queryHash, resultCommitment, binding]} = RangeAggregate(20, 3);
