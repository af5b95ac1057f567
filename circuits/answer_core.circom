pragma circom 2.2.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "less_than.circom";

// AnswerCore(sumBits, m): everything an answer proof enforces once the aggregates over the
// selected records (count, sums, min/max of field m) are known. Shared by RangeAggregate and
// ScanAggregate.
//
// Proves:
//   policyHash  == Poseidon4(aggregateMask + fieldMask*2^32 + filterMask*2^64, keyLo, keyHi,
//                  minCohort + thresholds[0]*2^32 + thresholds[1]*2^80 + thresholds[2]*2^128
//                  + thresholds[3]*2^176), all masks and minCohort < 2^32, keyLo/keyHi < 2^128,
//                  each thresholds[i] < 2^48 (so the fourth word is < 2^224: no overlap, no wrap);
//   queryHash   == Poseidon10(kind, fieldA, fieldB, lo, hi, threshold, nonce, pred[0..2]) with
//                  pred[i] = predField[i] + 4*predOp[i] + 16*predConst[i] (circuits/lib/query.ts);
//   kind in 0..6 and allowed by aggregateMask; fieldA (any kind but COUNT) and fieldB (ratio
//   kinds) in 0..3 and allowed by fieldMask; MIN/MAX only on field m; every predicate with
//   op != 0 names a field allowed by filterMask, op in 0..3, predConst < 2^64;
//   keyLo <= lo <= hi <= keyHi (all < 2^128); count >= minCohort (count < 2^32);
//   the selected records reach k too: fieldMask bits 8 + 4*j + i (i = 0..3, at most one set
//   per j) name field i as the 0/1 field counting the records field j is defined over (an
//   indicator schema's filter); then that field's sum over the range >= minCohort, for fieldA
//   (all kinds but COUNT) and fieldB (ratio kinds);
//   resultCommitment == Poseidon3(resultValue, resultAux, blind) with the table of
//   circuits/PROOF_FORMAT.md; RATIO/THRESHOLD: q = floor(10^6*sumA/sumB) via q*sumB + r ==
//   10^6*sumA, r < sumB (so sumB = 0 is unsatisfiable), THRESHOLD reveals q <= threshold only;
//   THRESHOLD only when threshold equals a nonzero thresholds[i] (0 marks an unused slot, so a
//   policy with four zero slots allows no THRESHOLD answer): the consumer cannot pick thresholds
//   and binary-search the ratio.
// NOTE: count, sums, minM, maxM must be computed (and pinned) by the caller; sums must be
// < 2^sumBits for honest trees (range-checked here for the selected fields).
template AnswerCore(sumBits, m) {
    signal input policyHash;
    signal input queryHash;
    signal input resultCommitment;

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

    signal input count;
    signal input sums[4];
    signal input minM;
    signal input maxM;

    // ---- policy preimage
    signal aggBits[32] <== Num2Bits(32)(aggregateMask);
    signal fieldBits[32] <== Num2Bits(32)(fieldMask);
    signal filterBits[32] <== Num2Bits(32)(filterMask);
    _ <== Num2Bits(32)(minCohort);
    _ <== Num2Bits(128)(keyLo);
    _ <== Num2Bits(128)(keyHi);
    for (var i = 0; i < 4; i++) {
        _ <== Num2Bits(48)(thresholds[i]);
    }
    signal packed <== aggregateMask + fieldMask * 2 ** 32 + filterMask * 2 ** 64;
    signal cohortAndThresholds <== minCohort + thresholds[0] * 2 ** 32 + thresholds[1] * 2 ** 80
        + thresholds[2] * 2 ** 128 + thresholds[3] * 2 ** 176;
    signal policyHashCalc <== Poseidon(4)([packed, keyLo, keyHi, cohortAndThresholds]);
    policyHash === policyHashCalc;

    // ---- query preimage
    _ <== Num2Bits(128)(lo);
    _ <== Num2Bits(128)(hi);
    _ <== Num2Bits(64)(threshold);
    signal pred[3];
    signal predUsed[3];
    signal predUnused[3];
    signal predFieldOk[3];
    signal pfBits[3][2];
    signal sel01[3];
    signal sel23[3];
    for (var i = 0; i < 3; i++) {
        _ <== Num2Bits(64)(predConst[i]);
        // op in 0..3, field in 0..3
        _ <== Num2Bits(2)(predOp[i]);
        pfBits[i] <== Num2Bits(2)(predField[i]);
        pred[i] <== predField[i] + 4 * predOp[i] + 16 * predConst[i];
        predUnused[i] <== IsZero()(predOp[i]);
        predUsed[i] <== 1 - predUnused[i];
        // filterBits[predField] selected by the two field bits
        sel01[i] <== pfBits[i][0] * (filterBits[1] - filterBits[0]) + filterBits[0];
        sel23[i] <== pfBits[i][0] * (filterBits[3] - filterBits[2]) + filterBits[2];
        predFieldOk[i] <== pfBits[i][1] * (sel23[i] - sel01[i]) + sel01[i];
        predUsed[i] * (1 - predFieldOk[i]) === 0;
    }
    signal queryHashCalc <== Poseidon(10)([kind, fieldA, fieldB, lo, hi, threshold, nonce, pred[0], pred[1], pred[2]]);
    queryHash === queryHashCalc;

    // ---- kind and fields: one-hot decodings (each must hit exactly one value)
    signal isKind[7];
    signal kindOk[7];
    var kindSum = 0;
    var kindAllowed = 0;
    for (var i = 0; i < 7; i++) {
        isKind[i] <== IsEqual()([kind, i]);
        kindOk[i] <== isKind[i] * aggBits[i];
        kindSum += isKind[i];
        kindAllowed += kindOk[i];
    }
    kindSum === 1;
    kindAllowed === 1;
    signal isA[4];
    signal isB[4];
    signal aOk[4];
    signal bOk[4];
    signal aPart[4];
    signal bPart[4];
    var aSum = 0;
    var bSum = 0;
    var aAllowed = 0;
    var bAllowed = 0;
    var sumAVar = 0;
    var sumBVar = 0;
    for (var j = 0; j < 4; j++) {
        isA[j] <== IsEqual()([fieldA, j]);
        isB[j] <== IsEqual()([fieldB, j]);
        aSum += isA[j];
        bSum += isB[j];
        aOk[j] <== isA[j] * fieldBits[j];
        bOk[j] <== isB[j] * fieldBits[j];
        aPart[j] <== isA[j] * sums[j];
        bPart[j] <== isB[j] * sums[j];
        aAllowed += aOk[j];
        bAllowed += bOk[j];
        sumAVar += aPart[j];
        sumBVar += bPart[j];
    }
    aSum === 1;
    bSum === 1;
    signal usesB <== isKind[5] + isKind[6];
    (1 - isKind[0]) * (1 - aAllowed) === 0;
    usesB * (1 - bAllowed) === 0;
    (isKind[3] + isKind[4]) * (fieldA - m) === 0;

    // ---- policy bounds and the privacy floor
    signal loInPolicy <== LessEqThanBits(128)([keyLo, lo]);
    loInPolicy === 1;
    signal loNotAboveHi <== LessEqThanBits(128)([lo, hi]);
    loNotAboveHi === 1;
    signal hiInPolicy <== LessEqThanBits(128)([hi, keyHi]);
    hiInPolicy === 1;
    _ <== Num2Bits(32)(count);
    signal cohortReached <== LessEqThanBits(32)([minCohort, count]);
    cohortReached === 1;

    // ---- aggregates of the chosen fields
    signal sumA <== sumAVar;
    signal sumB <== sumBVar;
    _ <== Num2Bits(sumBits)(sumA);
    _ <== Num2Bits(sumBits)(sumB);

    // ---- the cohort of a filtered field: fieldMask bit 8 + 4*j + i names field i as the 0/1
    // field counting the records field j is defined over (at most one per j; none: the range's
    // records). fieldA's (any kind but COUNT) and fieldB's (ratio kinds) cohort field must sum
    // to at least minCohort, so an answer over a selection rests on >= k selected records.
    var cohortAVar = 0;
    var cohortBVar = 0;
    var hasAVar = 0;
    var hasBVar = 0;
    signal mapA[4][4];
    signal mapB[4][4];
    signal cohortPartA[4];
    signal cohortPartB[4];
    for (var j = 0; j < 4; j++) {
        var named = 0;
        for (var i = 0; i < 4; i++) {
            named += fieldBits[8 + 4 * j + i];
        }
        named * (named - 1) === 0;
    }
    for (var i = 0; i < 4; i++) {
        var selA = 0;
        var selB = 0;
        for (var j = 0; j < 4; j++) {
            mapA[i][j] <== isA[j] * fieldBits[8 + 4 * j + i];
            mapB[i][j] <== isB[j] * fieldBits[8 + 4 * j + i];
            selA += mapA[i][j];
            selB += mapB[i][j];
        }
        cohortPartA[i] <== selA * sums[i];
        cohortPartB[i] <== selB * sums[i];
        cohortAVar += cohortPartA[i];
        cohortBVar += cohortPartB[i];
        hasAVar += selA;
        hasBVar += selB;
    }
    // cohort of a field = its cohort field's sum, or count when it has none; checked only for
    // the fields the kind aggregates (else count, which is checked above)
    signal checkA <== (1 - isKind[0]) * hasAVar;
    signal checkB <== usesB * hasBVar;
    signal cohortA <== checkA * (cohortAVar - count) + count;
    signal cohortB <== checkB * (cohortBVar - count) + count;
    _ <== Num2Bits(sumBits)(cohortA);
    _ <== Num2Bits(sumBits)(cohortB);
    signal selectedReachedA <== LessEqThanBits(sumBits)([minCohort, cohortA]);
    signal selectedReachedB <== LessEqThanBits(sumBits)([minCohort, cohortB]);
    selectedReachedA * selectedReachedB === 1;

    // ratio: q = floor(N / D), N = 10^6 * sumA, D = sumB (for ratio kinds; else N = 0, D = 1)
    signal num <== usesB * (1000000 * sumA);
    signal den <== usesB * (sumB - 1) + 1;
    signal q;
    signal r;
    q <-- num \ den;
    r <-- num % den;
    // pins q and r: q*den + r == num with 0 <= r < den and q < 2^(sumBits+20) (no wrap-around:
    // q*den + r < 2^(2*sumBits+21) < p)
    q * den + r === num;
    _ <== Num2Bits(sumBits + 20)(q);
    _ <== Num2Bits(sumBits)(r);
    signal remainderBelowDen <== LessThanBits(sumBits)([r, den]);
    remainderBelowDen === 1;
    signal below <== LessEqThanBits(sumBits + 20)([q, threshold]);

    // ---- THRESHOLD only at a threshold the policy allows: prod_i term[i] == 0 iff some used
    // slot equals threshold (term[i] = threshold - thresholds[i] for a used slot, 1 for an
    // unused one; a product of field elements is 0 iff a factor is; both sides are < 2^64 < p,
    // so field equality is integer equality)
    signal slotUnused[4];
    signal thresholdTerm[4];
    for (var i = 0; i < 4; i++) {
        slotUnused[i] <== IsZero()(thresholds[i]);
        thresholdTerm[i] <== (threshold - thresholds[i]) * (1 - slotUnused[i]) + slotUnused[i];
    }
    signal termProduct01 <== thresholdTerm[0] * thresholdTerm[1];
    signal termProduct23 <== thresholdTerm[2] * thresholdTerm[3];
    signal thresholdMiss <== termProduct01 * termProduct23;
    isKind[6] * thresholdMiss === 0;

    // ---- result selection (circuits/PROOF_FORMAT.md)
    signal v0 <== isKind[0] * count;
    signal v1 <== (isKind[1] + isKind[2]) * sumA;
    signal v2 <== isKind[3] * minM;
    signal v3 <== isKind[4] * maxM;
    signal v4 <== isKind[5] * q;
    signal v5 <== isKind[6] * below;
    signal resultValue <== v0 + v1 + v2 + v3 + v4 + v5;
    signal resultAux <== (isKind[1] + isKind[2] + isKind[3] + isKind[4]) * count;
    signal commitmentCalc <== Poseidon(3)([resultValue, resultAux, blind]);
    resultCommitment === commitmentCalc;
}
