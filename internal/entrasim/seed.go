package entrasim

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"strings"
	"time"
)

// Seeded tenants, fixed so tests and `make dev` can name them.
const (
	ContosoTenantID   = "3f6d2f2a-8f2c-4c1e-9b1a-6c6f6e746f01"
	NorthwindTenantID = "6e6f7274-6877-4e69-8e64-6e6f72746802"
	MSPTenantID       = "6d737000-5e11-4a8c-9f00-6d7370000003"

	ContosoTenant   = "contoso"
	NorthwindTenant = "northwind"
	MSPTenant       = "msp"

	// The one registered client (SPEC §7): any redirect URI on 127.0.0.1 or localhost.
	ClientID     = "jitaccess-dev"
	ClientSecret = "jitaccess-dev-secret"

	// SeedPassword is the password of every seeded user (usable with grant_type=password).
	SeedPassword = "Seeded-Passw0rd!"

	ContosoAdminUPN   = "admin@contoso.onmicrosoft.com"
	NorthwindAdminUPN = "admin@northwind.onmicrosoft.com"
	MSPAdminUPN       = "admin@msp.example"
	MSPTechUPN        = "tech@msp.example"
	MSPOutsiderUPN    = "outsider@msp.example"

	ContosoAdminID   = "0c0a7050-ad01-4e5a-8d01-000000000001"
	NorthwindAdminID = "0e0a7050-ad01-4e5a-8d02-000000000001"
	MSPAdminID       = "0d0a7050-ad01-4e5a-8d03-000000000001"
	MSPTechID        = "0d0a7050-7ec0-4e5a-8d03-000000000002"
	MSPOutsiderID    = "0d0a7050-0075-4e5a-8d03-000000000003"
)

const (
	roleGlobalAdmin         = "62e90394-69f5-4237-9190-012177145e10"
	roleUserAdmin           = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	rolePrivilegedRoleAdmin = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	rolePrivilegedAuthAdmin = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	roleHelpdeskAdmin       = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
	roleGlobalReader        = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	roleAuthAdmin           = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
	roleAuthPolicyAdmin     = "0526716b-113d-4c15-b2c8-68e3c22b9f80"
	roleSecurityAdmin       = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	roleSecurityReader      = "5d6b6bb7-de71-4623-b4af-96380a352509"
)

type roleDef struct {
	ID, DisplayName, Description string
}

// builtinRoles are Entra's built-in directory roles with their template ids and display names
// (permissions-reference.md). For built-in roles id == templateId.
var builtinRoles = []roleDef{
	{"62e90394-69f5-4237-9190-012177145e10", "Global Administrator", "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities."},
	{"fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator", "Can manage all aspects of users and groups, including resetting passwords for limited admins."},
	{"729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator", "Can reset passwords for non-administrators and Helpdesk Administrators."},
	{"29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator", "Can manage all aspects of the Exchange product."},
	{"f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator", "Can manage all aspects of the SharePoint service."},
	{"3a2c62db-5318-420d-8d74-23affee5d9d5", "Intune Administrator", "Can manage all aspects of the Intune product."},
	{"194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator", "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365."},
	{"e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator", "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management."},
	{"f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader", "Can read everything that a Global Administrator can, but not update anything."},
	{"b0f54661-2d74-4c50-afa3-1ec803f12efe", "Billing Administrator", "Can perform common billing related tasks like updating payment information."},
	{"69091246-20e8-4a56-aa4d-066075b2a7a8", "Teams Administrator", "Can manage the Microsoft Teams service."},
	{"c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator", "Can access to view, set and reset authentication method information for any non-admin user."},
	{"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator", "Can manage Conditional Access capabilities."},
	{"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps."},
	{"158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps except App Proxy."},
	{"966707d0-3269-4727-9be2-8c3a10f19b9d", "Password Administrator", "Can reset passwords for non-administrators and Password Administrators."},
	{"5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader", "Can read security information and reports in Microsoft Entra ID and Office 365."},
	{"4a5d8f65-41da-4de4-8968-e035b65339cf", "Reports Reader", "Can read sign-in and audit reports."},
	{"17315797-102d-40b4-93e0-432062caca18", "Compliance Administrator", "Can read and manage compliance configuration and reports in Microsoft Entra ID and Microsoft 365."},
	{"4d6ac14f-3453-41d0-bef9-a3e0c569773a", "License Administrator", "Can manage product licenses on users and groups."},
	{"7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator", "Can access to view, set and reset authentication method information for any user (admin or non-admin)."},
	{"88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers", "Can read basic directory information. Commonly used to grant directory read access to applications and guests."},
	{"9360feb5-f418-4baa-8175-e2a00bac4301", "Directory Writers", "Can read and write basic directory information. For granting access to applications, not intended for users."},
	{"fdd7a751-b60b-444a-984c-02652fe8fa1c", "Groups Administrator", "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports."},
	{"f023fd81-a637-4b56-95fd-791ac0226033", "Service Support Administrator", "Can read service health information and manage support tickets."},
	{"5f2222b1-57c3-48ba-8ad5-d4759f1fde6f", "Security Operator", "Creates and manages security events."},
	{"8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2", "Hybrid Identity Administrator", "Can manage Active Directory to Microsoft Entra cloud provisioning, Microsoft Entra Connect, pass-through authentication (PTA), password hash synchronization (PHS), seamless single sign-on (seamless SSO), and federation settings."},
	{"8329153b-31d0-4727-b945-745eb3bc5f31", "Domain Name Administrator", "Can manage domain names in cloud and on-premises."},
	{"95e79109-95c0-4d8e-aee3-d01accf2d47b", "Guest Inviter", "Can invite guest users independent of the 'members can invite guests' setting."},
	{"7698a772-787b-4ac8-901f-60d6b08affd2", "Cloud Device Administrator", "Limited access to manage devices in Microsoft Entra ID."},
	{"0526716b-113d-4c15-b2c8-68e3c22b9f80", "Authentication Policy Administrator", "Can create and manage the authentication methods policy, tenant-wide MFA settings, password protection policy, and verifiable credentials."},
	{"31392ffb-586c-42d1-9346-e59415a2cc4e", "Exchange Recipient Administrator", "Can create or update Exchange Online recipients within the Exchange Online organization."},
	{"baf37b3a-610e-45da-9e62-d9d1e5e8914b", "Teams Communications Administrator", "Can manage calling and meetings features within the Microsoft Teams service."},
	{"45d8d3c5-c802-45c6-b32a-1d70b5e1e86e", "Identity Governance Administrator", "Manage access using Microsoft Entra ID for identity governance scenarios."},
	{"11648597-926c-4cf3-9c36-bcebb0ba8dcc", "Power Platform Administrator", "Can create and manage all aspects of Microsoft Dynamics 365, Power Apps and Power Automate."},
	{"44367163-eba1-44c3-98af-f5787879f96a", "Dynamics 365 Administrator", "Can manage all aspects of the Dynamics 365 product."},
	{"a9ea8996-122f-4c74-9520-8edcd192826c", "Fabric Administrator", "Manages all aspects of Microsoft Fabric."},
	{"cf1c38e5-3621-4004-a7cb-879624dced7c", "Application Developer", "Can create application registrations independent of the 'Users can register applications' setting."},
	{"790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b", "Message Center Reader", "Can read messages and updates for their organization in Message Center only."},
	{"11451d60-acb2-45eb-a7d6-43d0f0125c13", "Windows 365 Administrator", "Can provision and manage all aspects of Cloud PCs."},
}

func roleByID(id string) *roleDef {
	id = strings.ToLower(id)
	for i := range builtinRoles {
		if builtinRoles[i].ID == id {
			return &builtinRoles[i]
		}
	}
	return nil
}

func seedState(now time.Time, key *rsa.PrivateKey) *state {
	created := now.UTC().Add(-365 * 24 * time.Hour).Truncate(time.Second)
	mkUser := func(id, upn, name string) *user {
		u := &user{
			ID: id, UPN: upn, DisplayName: name, MailNickname: strings.Split(upn, "@")[0],
			AccountEnabled: true, CreatedAt: created,
			Props: map[string]json.RawMessage{"mail": mustJSON(upn)},
		}
		u.setPassword(SeedPassword, created)
		return u
	}
	mkTenant := func(id, name, display string, domains []*domain, users ...*user) *tenant {
		t := &tenant{ID: id, Name: name, DisplayName: display, CreatedAt: created, Domains: domains,
			Users: map[string]*user{}, Assignments: map[string]*roleAssignment{}}
		for _, u := range users {
			t.Users[u.ID] = u
		}
		return t
	}
	contoso := mkTenant(ContosoTenantID, ContosoTenant, "Contoso", []*domain{
		{ID: "contoso.onmicrosoft.com", IsVerified: true, IsInitial: true},
		{ID: "contoso.com", IsVerified: true, IsDefault: true},
		{ID: "fabrikam-federated.com", IsVerified: true, Federated: true},
		{ID: "unverified.example"},
	}, mkUser(ContosoAdminID, ContosoAdminUPN, "Contoso Admin"))
	northwind := mkTenant(NorthwindTenantID, NorthwindTenant, "Northwind Traders", []*domain{
		{ID: "northwind.onmicrosoft.com", IsVerified: true, IsInitial: true, IsDefault: true},
	}, mkUser(NorthwindAdminID, NorthwindAdminUPN, "Northwind Admin"))
	msp := mkTenant(MSPTenantID, MSPTenant, "MSP", []*domain{
		{ID: "msp.onmicrosoft.com", IsVerified: true, IsInitial: true},
		{ID: "msp.example", IsVerified: true, IsDefault: true},
	},
		mkUser(MSPAdminID, MSPAdminUPN, "MSP Admin"),
		mkUser(MSPTechID, MSPTechUPN, "MSP Technician"),
		mkUser(MSPOutsiderID, MSPOutsiderUPN, "Outsider"),
	)
	for _, p := range []struct {
		t  *tenant
		id string
	}{{contoso, ContosoAdminID}, {northwind, NorthwindAdminID}, {msp, MSPAdminID}} {
		a := &roleAssignment{ID: assignmentID(roleGlobalAdmin, p.id), RoleDefinitionID: roleGlobalAdmin, PrincipalID: p.id, DirectoryScopeID: "/"}
		p.t.Assignments[a.ID] = a
	}
	return &state{
		Version:       stateVersion,
		SigningKey:    x509.MarshalPKCS1PrivateKey(key),
		Tenants:       []*tenant{contoso, northwind, msp},
		RefreshTokens: map[string]*refreshToken{},
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
