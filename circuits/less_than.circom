pragma circom 2.2.0;

// LessThanBits(n): out = 1 if in[0] < in[1] else 0, for n-bit inputs (n <= 252).
//
// Same arithmetic as circomlib's LessThan (the top bit of in[0] + 2^n - in[1]), with the bit
// decomposition written inline so that `circom --inspect` stays free of warnings about the
// unused low bits.
// NOTE: in[0] and in[1] MUST be range-checked to n bits by the caller (Num2Bits(n)); otherwise
// the answer is meaningless (the Dark Forest range-proof bug). An input of exactly 2^n on the
// right-hand side is also handled correctly (used by LessEqThanBits).
template LessThanBits(n) {
    assert(n <= 252);
    signal input in[2];
    signal output out;

    signal bits[n + 1];
    var diff = in[0] + (1 << n) - in[1];
    var acc = 0;
    var e = 1;
    for (var i = 0; i <= n; i++) {
        // hint: pinned by the boolean constraint and the recomposition below
        bits[i] <-- (diff >> i) & 1;
        bits[i] * (bits[i] - 1) === 0;
        acc += bits[i] * e;
        e = e + e;
    }
    acc === in[0] + (1 << n) - in[1];
    out <== 1 - bits[n];
}

// LessEqThanBits(n): out = 1 if in[0] <= in[1] else 0, for n-bit inputs.
// NOTE: both inputs must be range-checked to n bits by the caller.
template LessEqThanBits(n) {
    signal input in[2];
    signal output out;
    out <== LessThanBits(n)([in[0], in[1] + 1]);
}
