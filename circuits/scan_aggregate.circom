pragma circom 2.2.0;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "less_than.circom";
include "leaf_node.circom";
include "subtree_root.circom";
include "merkle_sum_path.circom";
include "answer_core.circom";

// ScanAggregate(depth, h, m): proves an aggregate over the records with lo <= key <= hi that
// match up to three AND-ed predicates (values[field] ==, <= or >= a constant), by scanning a
// window of C = 2 * 2^h consecutive leaves: the aligned blocks `block` and `block + 1` of
// 2^h leaves each, opened in full and tied to root by one path per block.
//
// Completeness: the window's first leaf has key < lo and its last leaf has nextKey > hi, so
// (the tree being sorted) no record of [lo, hi] lies outside the window. Inside the window
// every leaf is tested: selected = (lo <= key <= hi) AND all predicates. The leaves of the
// window must chain: nextKey[i] == key[i + 1]. Any run of up to 2^h records (plus its left
// neighbour) fits some such window.
//
// Public inputs (circuits/PROOF_FORMAT.md, in this order): root, policyHash, queryHash,
// resultCommitment, binding. Policy: predicate fields must be in filterMask (AnswerCore).
// NOTE: relies on the tree's well-formedness like RangeAggregate (circuits/README.md).
template ScanAggregate(depth, h, m) {
    var H = 2 ** h;
    var C = 2 * H;

    signal input root;
    signal input policyHash;
    signal input queryHash;
    signal input resultCommitment;
    signal input binding;

    signal input aggregateMask;
    signal input fieldMask;
    signal input filterMask;
    signal input keyLo;
    signal input keyHi;
    signal input minCohort;
    signal input thresholds[4];

    signal input kind;
    signal input fieldA;
    signal input fieldB;
    signal input lo;
    signal input hi;
    signal input threshold;
    signal input nonce;
    signal input predField[3];
    signal input predOp[3];
    signal input predConst[3];

    signal input blind;

    signal input block;
    signal input keys[C];
    signal input nextKeys[C];
    signal input values[C][4];
    signal input salts[C];
    signal input siblings[2][depth - h][8];

    signal bindingSquare <== binding * binding;

    // ---- the window: two adjacent aligned blocks, each a subtree with a path to root
    signal leaf[C][8];
    for (var i = 0; i < C; i++) {
        leaf[i] <== LeafNode(m)(keys[i], nextKeys[i], values[i], salts[i]);
    }
    component sub[2];
    component path[2];
    signal blockBits[2][depth - h];
    blockBits[0] <== Num2Bits(depth - h)(block);
    blockBits[1] <== Num2Bits(depth - h)(block + 1);
    for (var s = 0; s < 2; s++) {
        sub[s] = SubtreeRoot(h);
        for (var i = 0; i < H; i++) {
            sub[s].leaves[i] <== leaf[s * H + i];
        }
        path[s] = MerkleSumPath(depth - h, 0, 0);
        path[s].node <== sub[s].node;
        path[s].bits <== blockBits[s];
        path[s].siblings <== siblings[s];
        path[s].root === root;
    }
    // the totals left of block+1 are those left of block plus block itself
    for (var k = 0; k < 5; k++) {
        path[1].prefix[k] === path[0].prefix[k] + sub[0].node[1 + k];
    }
    for (var i = 0; i + 1 < C; i++) {
        nextKeys[i] === keys[i + 1];
    }
    signal firstBelowLo <== LessThanBits(128)([keys[0], lo]);
    firstBelowLo === 1;
    signal lastAfterHi <== LessThanBits(128)([hi, nextKeys[C - 1]]);
    lastAfterHi === 1;

    // ---- predicates, decoded once (field one-hot, op one-hot)
    signal isField[3][4];
    signal isOp[3][4];
    for (var p = 0; p < 3; p++) {
        for (var f = 0; f < 4; f++) {
            isField[p][f] <== IsEqual()([predField[p], f]);
            isOp[p][f] <== IsEqual()([predOp[p], f]);
        }
    }

    // ---- per leaf: in range, matches, and its contribution
    signal geLo[C];
    signal leHi[C];
    signal inRange[C];
    signal part[C][3][4];
    signal picked[C][3];
    signal isEq[C][3];
    signal isLe[C][3];
    signal isGe[C][3];
    signal m1[C][3];
    signal m2[C][3];
    signal m3[C][3];
    signal ok[C][3];
    signal sel01[C];
    signal selected[C];
    signal contrib[C][4];
    signal candMin[C];
    signal candMax[C];
    signal runMin[C + 1];
    signal runMax[C + 1];
    signal minLess[C];
    signal maxLess[C];
    runMin[0] <== 2 ** 64 - 1;
    runMax[0] <== 0;
    var count = 0;
    var sums[4] = [0, 0, 0, 0];
    for (var i = 0; i < C; i++) {
        geLo[i] <== LessEqThanBits(128)([lo, keys[i]]);
        leHi[i] <== LessEqThanBits(128)([keys[i], hi]);
        inRange[i] <== geLo[i] * leHi[i];
        for (var p = 0; p < 3; p++) {
            var acc = 0;
            for (var f = 0; f < 4; f++) {
                part[i][p][f] <== isField[p][f] * values[i][f];
                acc += part[i][p][f];
            }
            picked[i][p] <== acc;
            // picked is one of the leaf's 64-bit values, predConst is range-checked (AnswerCore)
            isEq[i][p] <== IsEqual()([picked[i][p], predConst[p]]);
            isLe[i][p] <== LessEqThanBits(64)([picked[i][p], predConst[p]]);
            isGe[i][p] <== LessEqThanBits(64)([predConst[p], picked[i][p]]);
            m1[i][p] <== isOp[p][1] * isEq[i][p];
            m2[i][p] <== isOp[p][2] * isLe[i][p];
            m3[i][p] <== isOp[p][3] * isGe[i][p];
            ok[i][p] <== isOp[p][0] + m1[i][p] + m2[i][p] + m3[i][p];
        }
        sel01[i] <== ok[i][0] * ok[i][1];
        selected[i] <== inRange[i] * sel01[i];
    }
    signal selectedAll[C];
    for (var i = 0; i < C; i++) {
        selectedAll[i] <== selected[i] * ok[i][2];
        count += selectedAll[i];
        for (var f = 0; f < 4; f++) {
            contrib[i][f] <== selectedAll[i] * values[i][f];
            sums[f] += contrib[i][f];
        }
        // leaf min/max are already 2^64-1 / 0 for sentinel and padding leaves
        candMin[i] <== selectedAll[i] * (leaf[i][6] - (2 ** 64 - 1)) + (2 ** 64 - 1);
        candMax[i] <== selectedAll[i] * leaf[i][7];
        minLess[i] <== LessThanBits(64)([candMin[i], runMin[i]]);
        runMin[i + 1] <== minLess[i] * (candMin[i] - runMin[i]) + runMin[i];
        maxLess[i] <== LessThanBits(64)([runMax[i], candMax[i]]);
        runMax[i + 1] <== maxLess[i] * (candMax[i] - runMax[i]) + runMax[i];
    }

    component answer = AnswerCore(64 + depth, m);
    answer.policyHash <== policyHash;
    answer.queryHash <== queryHash;
    answer.resultCommitment <== resultCommitment;
    answer.aggregateMask <== aggregateMask;
    answer.fieldMask <== fieldMask;
    answer.filterMask <== filterMask;
    answer.keyLo <== keyLo;
    answer.keyHi <== keyHi;
    answer.minCohort <== minCohort;
    answer.thresholds <== thresholds;
    answer.kind <== kind;
    answer.fieldA <== fieldA;
    answer.fieldB <== fieldB;
    answer.lo <== lo;
    answer.hi <== hi;
    answer.threshold <== threshold;
    answer.nonce <== nonce;
    answer.predField <== predField;
    answer.predOp <== predOp;
    answer.predConst <== predConst;
    answer.blind <== blind;
    answer.count <== count;
    answer.sums <== sums;
    answer.minM <== runMin[C];
    answer.maxM <== runMax[C];
}
