pragma circom 2.2.0;

// NodeInRange(level): the count and the four sums of a node tuple (a subtree of 2^level
// leaves) are in range: count <= 2^level and each sum < 2^(64+level) (each of at most 2^level
// values is < 2^64). AuditPath applies it to every sibling it touches, as PSE Summa
// range-checks balances, so that no sibling carries p - x or more records than its subtree
// has leaves.
// The bit decompositions are written inline (as in less_than.circom), so that `--inspect`
// stays free of warnings about unused bits.
// NOTE: min/max are not checked here (MerkleSumPath range-checks them to 64 bits).
template NodeInRange(level) {
    signal input count;
    signal input sums[4];

    // count < 2^(level+1)
    signal countBits[level + 1];
    var acc = 0;
    var e = 1;
    for (var i = 0; i <= level; i++) {
        // hint: pinned by the boolean constraint and the recomposition below
        countBits[i] <-- (count >> i) & 1;
        countBits[i] * (countBits[i] - 1) === 0;
        acc += countBits[i] * e;
        e = e + e;
    }
    acc === count;
    // count <= 2^level: with the top bit set, the count is exactly 2^level
    countBits[level] * (count - 2 ** level) === 0;

    // sums[j] < 2^(64+level)
    signal sumBits[4][64 + level];
    for (var j = 0; j < 4; j++) {
        var sacc = 0;
        var se = 1;
        for (var i = 0; i < 64 + level; i++) {
            // hint: pinned by the boolean constraint and the recomposition below
            sumBits[j][i] <-- (sums[j] >> i) & 1;
            sumBits[j][i] * (sumBits[j][i] - 1) === 0;
            sacc += sumBits[j][i] * se;
            se = se + se;
        }
        sacc === sums[j];
    }
}
