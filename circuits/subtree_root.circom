pragma circom 2.2.0;

include "node_hash.circom";

// SubtreeRoot(h): the node tuple of a complete subtree of 2^h leaves, from the leaves' tuples
// (in order), combined level by level with NodeHash (so its counts, sums, min and max are
// those of the leaves).
// NOTE: the leaves' min/max must be < 2^64 (LeafNode outputs are).
template SubtreeRoot(h) {
    signal input leaves[2 ** h][8];
    signal output node[8];

    var total = 2 ** h - 1; // internal nodes
    signal nodes[2 ** (h + 1) - 1][8];
    component combine[total];
    // nodes[0 .. 2^h - 1] are the leaves, then each level's parents in order
    for (var i = 0; i < 2 ** h; i++) {
        nodes[i] <== leaves[i];
    }
    var start = 0;
    var width = 2 ** h;
    var next = 2 ** h;
    var c = 0;
    for (var level = 0; level < h; level++) {
        for (var i = 0; i < width / 2; i++) {
            combine[c] = NodeHash();
            combine[c].left <== nodes[start + 2 * i];
            combine[c].right <== nodes[start + 2 * i + 1];
            nodes[next + i] <== combine[c].node;
            c++;
        }
        start = next;
        next = next + width / 2;
        width = width / 2;
    }
    node <== nodes[2 ** (h + 1) - 2];
}
