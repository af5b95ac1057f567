pragma circom 2.2.0;

include "leaf_node.circom";

// Test-only instance (not in circuits.json): one leaf, for range-check boundary tests.
component main = LeafNode(3);
