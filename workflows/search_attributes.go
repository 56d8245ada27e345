package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Custom search attributes of a grant, kept current by the workflow, so that an admin can
// type JitStatus="active" in the Temporal UI. The keys are immutable values.
var (
	TenantIDKey        = temporal.NewSearchAttributeKeyKeyword("JitTenantId")
	ApplicationIDKey   = temporal.NewSearchAttributeKeyKeyword("JitApplicationId")
	TechnicianEmailKey = temporal.NewSearchAttributeKeyKeyword("JitTechnicianEmail")
	StatusKey          = temporal.NewSearchAttributeKeyKeyword("JitStatus")
	ExpiresAtKey       = temporal.NewSearchAttributeKeyTime("JitExpiresAt")
)

// SearchAttributes is the initial set for StartWorkflowOptions.TypedSearchAttributes; the
// workflow adds the technician's e-mail from the database.
func SearchAttributes(tenantID, applicationID string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		TenantIDKey.ValueSet(tenantID),
		ApplicationIDKey.ValueSet(applicationID),
		StatusKey.ValueSet(string(StatusPending)),
	)
}

// SearchAttributeDefinition is a custom search attribute to register with a namespace.
type SearchAttributeDefinition struct {
	Name string
	// Type as the Temporal CLI spells it: "Keyword" or "Datetime"
	// (temporal server start-dev --search-attribute Name=Type).
	Type string
}

// IndexedValueType is Type for the operator service (AddSearchAttributes).
func (d SearchAttributeDefinition) IndexedValueType() enumspb.IndexedValueType {
	switch d.Type {
	case "Datetime":
		return enumspb.INDEXED_VALUE_TYPE_DATETIME
	default:
		return enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
}

// SearchAttributeDefinitions lists the custom search attributes the workflow writes.
func SearchAttributeDefinitions() []SearchAttributeDefinition {
	return []SearchAttributeDefinition{
		{Name: TenantIDKey.GetName(), Type: "Keyword"},
		{Name: ApplicationIDKey.GetName(), Type: "Keyword"},
		{Name: TechnicianEmailKey.GetName(), Type: "Keyword"},
		{Name: StatusKey.GetName(), Type: "Keyword"},
		{Name: ExpiresAtKey.GetName(), Type: "Datetime"},
	}
}
