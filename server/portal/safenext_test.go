package portal

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/jitaccess/jitaccess/server/web"
)

func TestSafeNextStaysOnSite(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/my", "/my"},
		{"/admin/tenants/tnt_1?x=1", "/admin/tenants/tnt_1?x=1"},
		{"/my/grants/grt_1#top", "/my/grants/grt_1#top"},
		{"", "/"},
		{"my", "/"},
		{"https://evil.example/", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/%0a/evil.example", "/"},
		{"/%0d%0a/evil.example", "/"},
		{"/%2f/evil.example", "/"},
		{"/%2F%2Fevil.example", "/"},
		{"/%5cevil.example", "/"},
		{"/%5C%5Cevil.example", "/"},
		{"/ /evil.example", "/"},
		{"/%20/evil.example", "/"},
		{"/%e3%80%80/evil.example", "/"}, // ideographic space
		{"/%zz", "/"},
		{"/" + strings.Repeat("a", 600), "/"},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSafeNext: whatever comes in, what goes out is "/" or a path that, resolved against the
// portal's URL as a browser does (also after decoding), stays on the portal's host.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/my", "//evil", "/%09/evil.example", "/\\evil", "/%2f%2fevil", "/a?b=//c"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://jit.example/")
	f.Fuzz(func(t *testing.T, in string) {
		out := safeNext(in)
		if out != "/" && out != in {
			t.Fatalf("safeNext(%q) = %q: neither the input nor /", in, out)
		}
		dec, _ := url.PathUnescape(out)
		for _, v := range []string{out, dec, strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(dec)} {
			u, err := base.Parse(v)
			if err == nil && u.Host != base.Host {
				t.Fatalf("safeNext(%q) = %q leads to host %q", in, out, u.Host)
			}
		}
	})
}

// TestSignInFromAnotherTenantIsRefused: only ID tokens whose tid is the MSP's tenant (the
// issuer's) identify staff; the check comes before any lookup.
func TestSignInFromAnotherTenantIsRefused(t *testing.T) {
	s := &Portal{Base: &web.Base{Deps: web.Deps{OIDCIssuer: "https://login.microsoftonline.com/6d737000-5e11-4a8c-9f00-6d7370000003/v2.0"}}}
	if got := s.mspTenantID(); got != "6d737000-5e11-4a8c-9f00-6d7370000003" {
		t.Fatalf("mspTenantID = %q", got)
	}
	_, err := s.staffFor(t.Context(), idClaims{TID: "another-tenant", OID: "oid-1", PreferredUsername: "admin@msp.example"})
	if !errors.Is(err, errWrongTenant) {
		t.Fatalf("staffFor from another tenant: %v, want errWrongTenant", err)
	}
	for _, issuer := range []string{"https://login.microsoftonline.com/common/v2.0", "https://login.microsoftonline.com/organizations/v2.0", "::"} {
		if got := (&Portal{Base: &web.Base{Deps: web.Deps{OIDCIssuer: issuer}}}).mspTenantID(); got != "" {
			t.Errorf("mspTenantID(%q) = %q, want none", issuer, got)
		}
	}
}
