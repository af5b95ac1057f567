pragma circom 2.2.0;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "less_than.circom";
include "leaf_node.circom";
include "merkle_sum_path.circom";
include "node_in_range.circom";

// AuditPath(depth, m): random path audit of a committed tree. For the auditor-chosen leaf
// `index` it proves that leaf `index` and leaf `index + 1` are in the tree of `root` and that
//   - key[index] <= key[index + 1] (sorted) and nextKey[index] == key[index + 1] (the link the
//     range proofs rely on),
//   - leaf 0 is the low sentinel (key 0) when index == 0, a padding leaf (key 2^128 - 1) holds
//     zero values and links to 2^128 - 1,
//   - the count/sums left of leaf index+1 equal those left of leaf index plus leaf index,
//   - every node on both paths carries count/sums = sum of its children and min/max = min/max
//     of its children (MerkleSumPath with checkMinMax = 1),
//   - every sibling tuple it touches is in range, as PSE Summa range-checks balances: a sibling
//     at level l (a subtree of 2^l leaves) has count <= 2^l and sums < 2^(64+l) (min/max
//     < 2^64 are checked by MerkleSumPath). Without this a sibling carrying p - x (a
//     "negative" count or sum) or a count above its capacity passes, and the totals above it
//     wrap around; with it every total on the paths is an exact integer below 2^(64+depth+1).
//   - the root's count (the leaf's count plus every sibling count on its path, each range-
//     checked above, so the total is an exact integer) equals the public recordCount, the
//     count published on-chain with the root (recordCount < 2^64): a version cannot claim
//     more or fewer records than its tree holds.
// Public inputs, in order: root, index, challenge (an auditor nonce, bound with a square so
// that each audit answer is fresh), recordCount. Nothing about the records is revealed.
// NOTE: one audit checks one link and two root paths; confidence comes from many random
// indices (circuits/README.md, "Trust assumption"). index must be < 2^depth - 1.
template AuditPath(depth, m) {
    signal input root;
    signal input index;
    signal input challenge;
    signal input recordCount;

    signal input key[2];
    signal input nextKey[2];
    signal input values[2][4];
    signal input salt[2];
    signal input siblings[2][depth][8];

    signal challengeSquare <== challenge * challenge;

    signal bits[2][depth];
    bits[0] <== Num2Bits(depth)(index);
    bits[1] <== Num2Bits(depth)(index + 1);

    signal leaf[2][8];
    component path[2];
    signal isPad[2];
    for (var s = 0; s < 2; s++) {
        leaf[s] <== LeafNode(m)(key[s], nextKey[s], values[s], salt[s]);
        path[s] = MerkleSumPath(depth, 1, 1);
        path[s].node <== leaf[s];
        path[s].bits <== bits[s];
        path[s].siblings <== siblings[s];
        path[s].root === root;
        isPad[s] <== IsEqual()([key[s], 2 ** 128 - 1]);
        for (var j = 0; j < 4; j++) {
            isPad[s] * values[s][j] === 0;
        }
        isPad[s] * (nextKey[s] - (2 ** 128 - 1)) === 0;
    }

    // every sibling's count and sums in range (see the header)
    for (var s = 0; s < 2; s++) {
        for (var l = 0; l < depth; l++) {
            NodeInRange(l)(siblings[s][l][1], [siblings[s][l][2], siblings[s][l][3], siblings[s][l][4], siblings[s][l][5]]);
        }
    }

    signal sorted <== LessEqThanBits(128)([key[0], key[1]]);
    sorted === 1;
    nextKey[0] === key[1];
    // the totals left of leaf index+1 are those left of leaf index plus leaf index itself:
    // the sibling sums of the two paths agree with each other
    for (var k = 0; k < 5; k++) {
        path[1].prefix[k] === path[0].prefix[k] + leaf[0][1 + k];
    }
    signal first <== IsZero()(index);
    first * key[0] === 0;

    // the root's count is the published recordCount
    _ <== Num2Bits(64)(recordCount);
    var total = leaf[0][1];
    for (var l = 0; l < depth; l++) {
        total += siblings[0][l][1];
    }
    signal rootCount <== total;
    recordCount === rootCount;
}
