/**
 * The bounds of a record's values, shared by the tree, the queries and the witnesses. A module
 * of its own without Node imports, so that browser code (the console, through protocol/) can
 * use the query hash without bundling the tree's Node-only engine.
 */

/** Number of value fields of a record. */
export const FIELD_COUNT = 4;
/** Largest record value, 2^64 - 1 (also the MIN of the empty set). */
export const VALUE_MAX = (1n << 64n) - 1n;
