pragma circom 2.2.0;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/poseidon.circom";
include "node_hash.circom";

// MerkleSumPath(levels, checkMinMax, checkSiblings): recomputes the root of a Poseidon Merkle-sum tree from one node and
// its authentication path, and returns the prefix sums of everything left of that node.
//
// Inputs: node (the starting node tuple, e.g. a LeafNode output), bits (bits[l] = 1 when the
// path's node at level l is a right child; usually Num2Bits of the index), siblings[l] (the
// sibling tuple at level l: hash, count, sums, min, max).
// Outputs: root (hash of the top node), prefix[k] = sum over the
// left siblings (bits[l] = 1) of component k+1 (count, sum0..sum3): the totals of all leaves
// left of the starting node.
//
// Proves: the sibling min/max are < 2^64 when checkSiblings = 1 or checkMinMax = 1 (so callers
// may compare them; a caller that never compares them passes checkSiblings = 0);
// every hash on the path is Poseidon16 of its children's tuples and ends in `root`; counts and
// sums of path nodes are the sums of their children.
// checkMinMax = 1: each path node's min/max is computed as min/max of its children (NodeHash;
// used by AuditPath, which checks the tree's well-formedness).
// checkMinMax = 0: a path node's min/max is the value committed in its parent's hash, taken
// from the witness generator and pinned by the Poseidon chain to the public root (any other
// value changes the root); whether it equals min/max of its children is tree
// well-formedness, not checked here (saves 2 comparators per level).
// NOTE: bits must be boolean (the caller takes them from Num2Bits); sibling counts and sums
// are taken as committed (not range-checked).
template MerkleSumPath(levels, checkMinMax, checkSiblings) {
    signal input node[8];
    signal input bits[levels];
    signal input siblings[levels][8];
    signal output root;
    signal output prefix[5];

    // cur[l] = the path's node at level l (the top node's tuple is never hashed again, so only
    // its hash is computed: it is the root)
    signal cur[levels][8];
    signal acc[levels + 1][5];
    signal left[levels][8];
    signal right[levels][8];
    component checked[levels];
    component hasher[levels];

    cur[0] <== node;
    for (var k = 0; k < 5; k++) {
        acc[0][k] <== 0;
    }
    for (var l = 0; l < levels; l++) {
        if (checkSiblings == 1 || checkMinMax == 1) {
            _ <== Num2Bits(64)(siblings[l][6]);
            _ <== Num2Bits(64)(siblings[l][7]);
        }
        for (var i = 0; i < 8; i++) {
            left[l][i] <== cur[l][i] + bits[l] * (siblings[l][i] - cur[l][i]);
            right[l][i] <== cur[l][i] + siblings[l][i] - left[l][i];
        }
        if (checkMinMax == 1 && l < levels - 1) {
            checked[l] = NodeHash();
            checked[l].left <== left[l];
            checked[l].right <== right[l];
            cur[l + 1] <== checked[l].node;
        } else {
            hasher[l] = Poseidon(16);
            for (var i = 0; i < 8; i++) {
                hasher[l].inputs[i] <== left[l][i];
                hasher[l].inputs[8 + i] <== right[l][i];
            }
            if (l < levels - 1) {
                cur[l + 1][0] <== hasher[l].out;
                for (var i = 1; i < 6; i++) {
                    cur[l + 1][i] <== left[l][i] + right[l][i];
                }
                // hint: the committed min/max of the parent, pinned by the next level's
                // Poseidon16 and so by the public root (any other value changes the root)
                cur[l + 1][6] <-- left[l][6] < right[l][6] ? left[l][6] : right[l][6];
                cur[l + 1][7] <-- left[l][7] > right[l][7] ? left[l][7] : right[l][7];
            } else {
                root <== hasher[l].out;
            }
        }
        for (var k = 0; k < 5; k++) {
            acc[l + 1][k] <== acc[l][k] + bits[l] * siblings[l][1 + k];
        }
    }
    prefix <== acc[levels];
}
