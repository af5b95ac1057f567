pragma circom 2.2.0;

include "audit_path.circom";

// Test instance: audits a depth-4 tree (MIN/MAX on field 3).
component main {public [root, index, challenge, recordCount]} = AuditPath(4, 3);
