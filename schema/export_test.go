package schema

// ChainExistingAudit exposes the data step of migration 09 to the external tests.
var ChainExistingAudit = chainExistingAudit
