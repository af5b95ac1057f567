pragma circom 2.2.0;

include "audit_path.circom";

// Production instance: audits a depth-20 tree (MIN/MAX on field 3).
component main {public [root, index, challenge, recordCount]} = AuditPath(20, 3);
