/** circomlibjs' `buildPoseidon`, without loading its package index (see circomlib-poseidon.mjs). */
export declare function buildPoseidon(): Promise<unknown>;
