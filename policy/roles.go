package policy

import "slices"

// role is a built-in Entra role: its template id, name, and whether Microsoft labels it
// PRIVILEGED (permissions-reference: roles that can manage credentials, authentication
// policy, role assignments or sensitive data).
type role struct {
	id, name   string
	privileged bool
}

var builtinRoles = []role{
	{"62e90394-69f5-4237-9190-012177145e10", "Global Administrator", true},
	{"e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator", true},
	{"7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator", true},
	{"194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator", true},
	{"5f2222b1-57c3-48ba-8ad5-d4759f1fde6f", "Security Operator", true},
	{"5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader", true},
	{"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator", true},
	{"cf1c38e5-3621-4004-a7cb-879624dced7c", "Application Developer", true},
	{"158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator", true},
	{"c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator", true},
	{"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator", true},
	{"7698a772-787b-4ac8-901f-60d6b08affd2", "Cloud Device Administrator", true},
	{"9360feb5-f418-4baa-8175-e2a00bac4301", "Directory Writers", true},
	{"8329153b-31d0-4727-b945-745eb3bc5f31", "Domain Name Administrator", true},
	{"f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader", true},
	{"729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator", true},
	{"8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2", "Hybrid Identity Administrator", true},
	{"3a2c62db-5318-420d-8d74-23affee5d9d5", "Intune Administrator", true},
	{"966707d0-3269-4727-9be2-8c3a10f19b9d", "Password Administrator", true},
	{"fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator", true},
	{"4ba39ca4-527c-499a-b93d-d9b492c50246", "Partner Tier1 Support", true},
	{"e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8", "Partner Tier2 Support", true},
	{"29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator", false},
	{"f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator", false},
	{"b0f54661-2d74-4c50-afa3-1ec803f12efe", "Billing Administrator", false},
	{"69091246-20e8-4a56-aa4d-066075b2a7a8", "Teams Administrator", false},
	{"4a5d8f65-41da-4de4-8968-e035b65339cf", "Reports Reader", false},
	{"17315797-102d-40b4-93e0-432062caca18", "Compliance Administrator", false},
	{"4d6ac14f-3453-41d0-bef9-a3e0c569773a", "License Administrator", false},
	{"88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers", false},
	{"fdd7a751-b60b-444a-984c-02652fe8fa1c", "Groups Administrator", false},
	{"f023fd81-a637-4b56-95fd-791ac0226033", "Service Support Administrator", false},
	{"95e79109-95c0-4d8e-aee3-d01accf2d47b", "Guest Inviter", false},
	{"0526716b-113d-4c15-b2c8-68e3c22b9f80", "Authentication Policy Administrator", false},
	{"31392ffb-586c-42d1-9346-e59415a2cc4e", "Exchange Recipient Administrator", false},
	{"baf37b3a-610e-45da-9e62-d9d1e5e8914b", "Teams Communications Administrator", false},
	{"45d8d3c5-c802-45c6-b32a-1d70b5e1e86e", "Identity Governance Administrator", false},
}

// PrivilegedRoleIDs lists the template ids of the roles Microsoft labels privileged. An
// application assigning any of them needs approval by default.
func PrivilegedRoleIDs() []string {
	var out []string
	for _, r := range builtinRoles {
		if r.privileged {
			out = append(out, r.id)
		}
	}
	return out
}

// IsPrivilegedRole reports whether a role template id is one of Microsoft's privileged roles.
func IsPrivilegedRole(roleID string) bool {
	return slices.ContainsFunc(builtinRoles, func(r role) bool { return r.id == roleID && r.privileged })
}

// HasPrivilegedRole reports whether any of roleIDs is privileged.
func HasPrivilegedRole(roleIDs []string) bool { return slices.ContainsFunc(roleIDs, IsPrivilegedRole) }

// RoleName is the name of a well-known built-in role, else the template id itself.
func RoleName(roleID string) string {
	for _, r := range builtinRoles {
		if r.id == roleID {
			return r.name
		}
	}
	return roleID
}
