pragma circom 2.2.0;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "less_than.circom";
include "leaf_node.circom";
include "merkle_sum_path.circom";
include "answer_core.circom";

// RangeAggregate(depth, m): proves an aggregate answer over all records whose index key lies
// in [lo, hi], from two opened leaves of a depth-`depth` Poseidon Merkle-sum tree.
//
// The prover opens leaf A (index a) with key < lo <= A.nextKey, i.e. the last leaf before the
// range, and leaf L (index l > a) with L.key <= hi < L.nextKey, i.e. the last leaf of the range.
// The range is the leaves a+1 .. l. With prefix(i) = totals of all leaves left of i (the left
// siblings along i's path):  total = prefix(l) + value(l) - prefix(a) - value(a)  for the count
// and the four sums. MIN/MAX of field m = min/max over leaf l and the canonical subtrees
// between the two paths: the right siblings of A's path and the left siblings of L's path
// below their lowest common ancestor (selected from the index bits in-circuit).
//
// Public inputs (circuits/PROOF_FORMAT.md, in this order): root, policyHash, queryHash,
// resultCommitment, binding. The rest (policy and query preimages, blind, the two leaves and
// their paths) is private. The constraint count depends on depth only.
//
// NOTE: completeness (no record of [lo, hi] outside a+1..l) and the values of siblings rest on
// the tree being well formed: sorted by key, nextKey = the next leaf's key, node values = sums
// of children. That is the trust assumption of circuits/README.md; AuditPath spot-checks it.
// An empty range has no proof (l > a is required).
template RangeAggregate(depth, m) {
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

    signal input blind;

    signal input aIndex;
    signal input aKey;
    signal input aNextKey;
    signal input aValues[4];
    signal input aSalt;
    signal input aSiblings[depth][8];

    signal input lIndex;
    signal input lKey;
    signal input lNextKey;
    signal input lValues[4];
    signal input lSalt;
    signal input lSiblings[depth][8];

    // binding takes part in no computation: bind it with a square (Semaphore, Tornado)
    signal bindingSquare <== binding * binding;

    // ---- the two leaves and their paths to root
    signal aLeaf[8] <== LeafNode(m)(aKey, aNextKey, aValues, aSalt);
    signal lLeaf[8] <== LeafNode(m)(lKey, lNextKey, lValues, lSalt);
    signal aBits[depth] <== Num2Bits(depth)(aIndex);
    signal lBits[depth] <== Num2Bits(depth)(lIndex);

    component aPath = MerkleSumPath(depth, 0, 1);
    aPath.node <== aLeaf;
    aPath.bits <== aBits;
    aPath.siblings <== aSiblings;
    component lPath = MerkleSumPath(depth, 0, 1);
    lPath.node <== lLeaf;
    lPath.bits <== lBits;
    lPath.siblings <== lSiblings;
    aPath.root === root;
    lPath.root === root;

    // ---- A is the last leaf before the range, L the last leaf inside it, a < l
    signal aBeforeL <== LessThanBits(depth)([aIndex, lIndex]);
    aBeforeL === 1;
    signal aKeyBelowLo <== LessThanBits(128)([aKey, lo]);
    aKeyBelowLo === 1;
    signal aNextKeyReachesLo <== LessEqThanBits(128)([lo, aNextKey]);
    aNextKeyReachesLo === 1;
    signal lKeyWithinHi <== LessEqThanBits(128)([lKey, hi]);
    lKeyWithinHi === 1;
    signal lNextKeyAboveHi <== LessThanBits(128)([hi, lNextKey]);
    lNextKeyAboveHi === 1;

    // ---- count and sums over a+1 .. l
    signal totals[5];
    for (var k = 0; k < 5; k++) {
        totals[k] <== lPath.prefix[k] + lLeaf[1 + k] - aPath.prefix[k] - aLeaf[1 + k];
    }

    // ---- min/max of field m over leaf l and the canonical subtrees between the paths
    // differ[l] = 1 iff a >> l != l >> l (the paths are apart at level l)
    signal xorBit[depth];
    signal differ[depth + 1];
    differ[depth] <== 0;
    for (var v = depth - 1; v >= 0; v--) {
        xorBit[v] <== aBits[v] + lBits[v] - 2 * aBits[v] * lBits[v];
        differ[v] <== differ[v + 1] + xorBit[v] - differ[v + 1] * xorBit[v];
    }
    signal takeA[depth];
    signal takeL[depth];
    signal candMinA[depth];
    signal candMaxA[depth];
    signal candMinL[depth];
    signal candMaxL[depth];
    signal runMin[2 * depth + 1];
    signal runMax[2 * depth + 1];
    signal minLess[2 * depth];
    signal maxLess[2 * depth];
    runMin[0] <== lLeaf[6];
    runMax[0] <== lLeaf[7];
    for (var v = 0; v < depth; v++) {
        // A's sibling at level v is inside the range iff A's node is a left child and the
        // parents at level v+1 differ; L's sibling iff L's node is a right child and they differ
        takeA[v] <== (1 - aBits[v]) * differ[v + 1];
        takeL[v] <== lBits[v] * differ[v + 1];
        // excluded siblings stand in as the empty set (min 2^64-1, max 0); sibling min/max
        // are range-checked by MerkleSumPath
        candMinA[v] <== takeA[v] * (aSiblings[v][6] - (2 ** 64 - 1)) + (2 ** 64 - 1);
        candMaxA[v] <== takeA[v] * aSiblings[v][7];
        candMinL[v] <== takeL[v] * (lSiblings[v][6] - (2 ** 64 - 1)) + (2 ** 64 - 1);
        candMaxL[v] <== takeL[v] * lSiblings[v][7];

        minLess[2 * v] <== LessThanBits(64)([candMinA[v], runMin[2 * v]]);
        runMin[2 * v + 1] <== minLess[2 * v] * (candMinA[v] - runMin[2 * v]) + runMin[2 * v];
        maxLess[2 * v] <== LessThanBits(64)([runMax[2 * v], candMaxA[v]]);
        runMax[2 * v + 1] <== maxLess[2 * v] * (candMaxA[v] - runMax[2 * v]) + runMax[2 * v];

        minLess[2 * v + 1] <== LessThanBits(64)([candMinL[v], runMin[2 * v + 1]]);
        runMin[2 * v + 2] <== minLess[2 * v + 1] * (candMinL[v] - runMin[2 * v + 1]) + runMin[2 * v + 1];
        maxLess[2 * v + 1] <== LessThanBits(64)([runMax[2 * v + 1], candMaxL[v]]);
        runMax[2 * v + 2] <== maxLess[2 * v + 1] * (candMaxL[v] - runMax[2 * v + 1]) + runMax[2 * v + 1];
    }

    // ---- policy, query, privacy floor and the committed result
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
    answer.predField <== [0, 0, 0];
    answer.predOp <== [0, 0, 0];
    answer.predConst <== [0, 0, 0];
    answer.blind <== blind;
    answer.count <== totals[0];
    answer.sums <== [totals[1], totals[2], totals[3], totals[4]];
    answer.minM <== runMin[2 * depth];
    answer.maxM <== runMax[2 * depth];
}
