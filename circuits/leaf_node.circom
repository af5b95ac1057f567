pragma circom 2.2.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

// LeafNode(m): hashes one committed leaf and returns its node tuple.
//
// A leaf is (key, nextKey, v[0..3], salt): key is the 128-bit index key, nextKey the key of the
// following leaf (the tree builder writes it; it makes "A is the immediate left neighbour of the
// range" provable from one opened leaf), v the four unsigned 64-bit values, salt a secret random
// field element (0 for the public sentinel/padding leaves).
//
// node = [hash, count, sum0, sum1, sum2, sum3, min_m, max_m] with
//   hash  = Poseidon7(key, nextKey, v0, v1, v2, v3, salt)
//   count = 1 for a record, 0 for a sentinel (key 0) or padding leaf (key 2^128 - 1)
//   sums  = v for a record, 0 for a sentinel/padding leaf
//   min_m = v[m] for a record, 2^64 - 1 (the min of the empty set) otherwise
//   max_m = v[m] for a record, 0 otherwise
//
// Proves: key and nextKey are < 2^128, each value is < 2^64 (every output is range-checked, so
// callers may feed min/max straight into 64-bit comparators).
// NOTE: does not check that nextKey really is the next leaf's key, nor any order: that is the
// tree's well-formedness (see circuits/README.md, "Trust assumption"; AuditPath checks it).
template LeafNode(m) {
    signal input key;
    signal input nextKey;
    signal input values[4];
    signal input salt;
    signal output node[8];

    _ <== Num2Bits(128)(key);
    _ <== Num2Bits(128)(nextKey);
    for (var j = 0; j < 4; j++) {
        _ <== Num2Bits(64)(values[j]);
    }

    signal isLow <== IsZero()(key);
    signal isHigh <== IsEqual()([key, 2 ** 128 - 1]);
    // key < 2^128, so at most one of isLow, isHigh is 1.
    signal isReal <== 1 - isLow - isHigh;

    node[0] <== Poseidon(7)([key, nextKey, values[0], values[1], values[2], values[3], salt]);
    node[1] <== isReal;
    for (var j = 0; j < 4; j++) {
        node[2 + j] <== isReal * values[j];
    }
    node[6] <== isReal * (values[m] - (2 ** 64 - 1)) + (2 ** 64 - 1);
    node[7] <== isReal * values[m];
}
