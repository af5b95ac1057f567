pragma circom 2.2.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/comparators.circom";
include "less_than.circom";

// NodeHash(): combines two child node tuples into their parent's tuple.
//
// node = [hash, count, sum0, sum1, sum2, sum3, min_m, max_m]
//   parent.hash  = Poseidon16(left[0..7], right[0..7])  (both children's hash AND values: the
//                  PSE Summa fix of the "broken Maxwell tree")
//   parent.count = left.count + right.count, parent.sum_j = left.sum_j + right.sum_j
//   parent.min   = min(left.min, right.min), parent.max = max(left.max, right.max)
//
// NOTE: the caller must make sure left[6], left[7], right[6], right[7] are < 2^64 (they feed
// LessThanBits(64)). Counts and sums are not range-checked here.
template NodeHash() {
    signal input left[8];
    signal input right[8];
    signal output node[8];

    component h = Poseidon(16);
    for (var i = 0; i < 8; i++) {
        h.inputs[i] <== left[i];
        h.inputs[8 + i] <== right[i];
    }
    node[0] <== h.out;
    for (var i = 1; i < 6; i++) {
        node[i] <== left[i] + right[i];
    }
    signal leftMinLess <== LessThanBits(64)([left[6], right[6]]);
    node[6] <== leftMinLess * (left[6] - right[6]) + right[6];
    signal leftMaxLess <== LessThanBits(64)([left[7], right[7]]);
    node[7] <== leftMaxLess * (right[7] - left[7]) + left[7];
}
