package directory

import (
	"errors"
	"strings"
	"testing"
)

func TestBuildUPN(t *testing.T) {
	tests := []struct {
		name, email, domain string
		want                string // exact result; "" when only checked for validity
		wantPrefix          string
		hashed              bool
		wantErr             string
	}{
		{name: "simple", email: "alice@msp.example", domain: "contoso.com", want: "jit-alice_msp.example@contoso.com"},
		{name: "case and spaces folded", email: "  Alice@MSP.Example ", domain: "Contoso.COM", want: "jit-alice_msp.example@contoso.com"},
		{name: "dots and plus-free specials kept", email: "bob.o'neil-x_y@msp.example", domain: "contoso.onmicrosoft.com", want: "jit-bob.o'neil-x_y_msp.example@contoso.onmicrosoft.com"},
		{name: "subdomain", email: "tech@eu.msp.example", domain: "contoso.com", want: "jit-tech_eu.msp.example@contoso.com"},
		{name: "plus sign is hashed", email: "alice+jit@msp.example", domain: "contoso.com", wantPrefix: "jit-alice-jit_msp.example~", hashed: true},
		{name: "tilde is hashed", email: "al~ice@msp.example", domain: "contoso.com", wantPrefix: "jit-al-ice_msp.example~", hashed: true},
		{name: "double dot is hashed", email: "al..ice@msp.example", domain: "contoso.com", wantPrefix: "jit-al.ice_msp.example~", hashed: true},
		{name: "underscore in mail domain is hashed", email: "a@b_c.example", domain: "contoso.com", wantPrefix: "jit-a_b_c.example~", hashed: true},
		{name: "trailing dot in mail domain is hashed", email: "a@msp.example.", domain: "contoso.com", wantPrefix: "jit-a_msp.example.~", hashed: true},
		{name: "unicode is hashed", email: "jürgen@msp.example", domain: "contoso.com", wantPrefix: "jit-j-rgen_msp.example~", hashed: true},
		{name: "quoted local part with @", email: `"a@b"@msp.example`, domain: "contoso.com", hashed: true},
		{name: "long local part is shortened", email: strings.Repeat("x", 80) + "@msp.example", domain: "contoso.com", wantPrefix: "jit-" + strings.Repeat("x", 47) + "~", hashed: true},
		{name: "exactly 64 readable", email: strings.Repeat("y", 64-len("jit-_msp.example")) + "@msp.example", domain: "contoso.com", want: "jit-" + strings.Repeat("y", 64-len("jit-_msp.example")) + "_msp.example@contoso.com"},
		{name: "65 is hashed", email: strings.Repeat("y", 65-len("jit-_msp.example")) + "@msp.example", domain: "contoso.com", hashed: true},
		{name: "48-char domain", email: "alice@msp.example", domain: strings.Repeat("d", 44) + ".com", want: "jit-alice_msp.example@" + strings.Repeat("d", 44) + ".com"},
		{name: "no at", email: "alice", domain: "contoso.com", wantErr: "has no '@'"},
		{name: "empty email", email: " ", domain: "contoso.com", wantErr: "empty"},
		{name: "empty local", email: "@msp.example", domain: "contoso.com", wantErr: "nothing before '@'"},
		{name: "empty mail domain", email: "alice@", domain: "contoso.com", wantErr: "no domain"},
		{name: "invalid utf8", email: "a\xffb@msp.example", domain: "contoso.com", wantErr: "UTF-8"},
		{name: "empty tenant domain", email: "alice@msp.example", domain: "", wantErr: "tenant domain is empty"},
		{name: "tenant domain too long", email: "alice@msp.example", domain: strings.Repeat("d", 45) + ".com", wantErr: "longer than 48"},
		{name: "tenant domain bad char", email: "alice@msp.example", domain: "con_toso.com", wantErr: "contains \"_\""},
		{name: "tenant domain empty label", email: "alice@msp.example", domain: "contoso..com", wantErr: "empty label"},
		{name: "tenant domain hyphen edge", email: "alice@msp.example", domain: "-contoso.com", wantErr: "starts or ends with '-'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BuildUPN(tt.email, tt.domain)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("BuildUPN(%q, %q) = %q, want error", tt.email, tt.domain, got)
				}
				if !errors.Is(err, ErrInvalidUPN) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q, want ErrInvalidUPN mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("BuildUPN: %v", err)
			}
			if err := ValidUPN(got); err != nil {
				t.Fatalf("BuildUPN gave an invalid UPN: %v", err)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.wantPrefix != "" && !strings.HasPrefix(got, tt.wantPrefix) {
				t.Errorf("got %q, want prefix %q", got, tt.wantPrefix)
			}
			if hashed := strings.ContainsRune(got, '~'); hashed != tt.hashed {
				t.Errorf("got %q, hashed=%v, want %v", got, hashed, tt.hashed)
			}
			again, _ := BuildUPN(tt.email, tt.domain)
			if again != got {
				t.Errorf("not stable: %q then %q", got, again)
			}
		})
	}
}

func TestBuildUPNDistinguishesLookalikes(t *testing.T) {
	// Each pair would collide under a naive "replace bad characters" scheme.
	pairs := [][2]string{
		{"a_b@c.example", "a@b_c.example"},
		{"a+b@msp.example", "a-b@msp.example"},
		{"a~b@msp.example", "a-b@msp.example"},
		{"al..ice@msp.example", "al.ice@msp.example"},
		{strings.Repeat("x", 80) + "1@msp.example", strings.Repeat("x", 80) + "2@msp.example"},
		{"jürgen@msp.example", "jörgen@msp.example"},
		{"a@msp.example.", "a@msp.example"},
	}
	for _, p := range pairs {
		u1, err1 := BuildUPN(p[0], "contoso.com")
		u2, err2 := BuildUPN(p[1], "contoso.com")
		if err1 != nil || err2 != nil {
			t.Fatalf("errors: %v, %v", err1, err2)
		}
		if u1 == u2 {
			t.Errorf("%q and %q both map to %q", p[0], p[1], u1)
		}
	}
}

func TestValidUPN(t *testing.T) {
	tests := []struct {
		upn     string
		wantErr string
	}{
		{"jit-alice_msp.example@contoso.com", ""},
		{"a'b.c-d_e!f#g^h~i@contoso.com", ""},
		{"alice", "exactly one '@'"},
		{"a@b@contoso.com", "exactly one '@'"},
		{"@contoso.com", "nothing before"},
		{".alice@contoso.com", "starts with '.'"},
		{"alice.@contoso.com", "right before '@'"},
		{"al..ice@contoso.com", `".."`},
		{"al+ice@contoso.com", `"+"`},
		{strings.Repeat("a", 65) + "@contoso.com", "more than 64"},
		{"a@" + strings.Repeat("d", 45) + ".com", "longer than 48"},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("d", 46) + ".com", "longer than 113"},
	}
	for _, tt := range tests {
		err := ValidUPN(tt.upn)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("ValidUPN(%q): %v", tt.upn, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ValidUPN(%q) = %v, want error mentioning %q", tt.upn, err, tt.wantErr)
		}
	}
}

func TestMailNickname(t *testing.T) {
	tests := []struct{ upn, want, wantErr string }{
		{"jit-alice_msp.example@contoso.com", "jit-alice_msp.example", ""},
		{"jit-x~abc@contoso.com", "jit-x~abc", ""},
		{"nodomain", "", "no '@'"},
		{"@contoso.com", "", "empty"},
		{"a b@contoso.com", "", `" "`},
		{"a:b@contoso.com", "", `":"`},
		{".ab@contoso.com", "", "'.'"},
		{strings.Repeat("n", 65) + "@contoso.com", "", "longer than 64"},
	}
	for _, tt := range tests {
		got, err := MailNickname(tt.upn)
		if tt.wantErr == "" {
			if err != nil || got != tt.want {
				t.Errorf("MailNickname(%q) = %q, %v; want %q", tt.upn, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("MailNickname(%q) = %q, %v; want error mentioning %q", tt.upn, got, err, tt.wantErr)
		}
	}
}

func TestAccountDisplayNameAndSpec(t *testing.T) {
	tests := []struct{ name, email, want string }{
		{"Alice Smith", "alice@msp.example", "Alice Smith (JIT admin, alice@msp.example)"},
		{"  Alice \t Smith ", "alice@msp.example", "Alice Smith (JIT admin, alice@msp.example)"},
		{"", "alice@msp.example", "alice@msp.example (JIT admin)"},
		{"Alice", "", "Alice (JIT admin)"},
		{"", "", "Just-in-time admin account"},
	}
	for _, tt := range tests {
		if got := AccountDisplayName(tt.name, tt.email); got != tt.want {
			t.Errorf("AccountDisplayName(%q, %q) = %q, want %q", tt.name, tt.email, got, tt.want)
		}
	}
	if got := AccountDisplayName(strings.Repeat("é", 300), "a@b.c"); len([]rune(got)) != maxDisplayName {
		t.Errorf("long display name has %d runes", len([]rune(got)))
	}

	spec, err := NewAccountSpec("Alice@MSP.example", "Alice Smith", "contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	want := AccountSpec{UPN: "jit-alice_msp.example@contoso.com", DisplayName: "Alice Smith (JIT admin, Alice@MSP.example)", MailNickname: "jit-alice_msp.example"}
	if spec != want {
		t.Errorf("NewAccountSpec = %+v, want %+v", spec, want)
	}
	if _, err := NewAccountSpec("nope", "x", "contoso.com"); err == nil {
		t.Error("NewAccountSpec accepted an e-mail without '@'")
	}
}

// FuzzBuildUPN checks, for any two e-mails: every UPN BuildUPN returns is valid and has a
// valid mail nickname, the result is stable, and two e-mails that differ after trimming and
// lowercasing never share a UPN.
func FuzzBuildUPN(f *testing.F) {
	f.Add("alice@msp.example", "bob@msp.example")
	f.Add("a_b@c.example", "a@b_c.example")
	f.Add("Alice@MSP.example", "alice@msp.example")
	f.Add(strings.Repeat("x", 90)+"@msp.example", strings.Repeat("x", 90)+"@msp.example.")
	f.Fuzz(func(t *testing.T, a, b string) {
		const domain = "contoso.onmicrosoft.com"
		ua, errA := BuildUPN(a, domain)
		ub, errB := BuildUPN(b, domain)
		for _, c := range []struct {
			email, upn string
			err        error
		}{{a, ua, errA}, {b, ub, errB}} {
			if c.err != nil {
				if !errors.Is(c.err, ErrInvalidUPN) {
					t.Fatalf("BuildUPN(%q): error %v does not wrap ErrInvalidUPN", c.email, c.err)
				}
				if _, nerr := normalizeEmail(c.email); nerr == nil {
					t.Fatalf("BuildUPN(%q) refused an e-mail normalizeEmail accepts: %v", c.email, c.err)
				}
				continue
			}
			if err := ValidUPN(c.upn); err != nil {
				t.Fatalf("BuildUPN(%q) = %q: %v", c.email, c.upn, err)
			}
			if !strings.HasPrefix(c.upn, upnPrefix) || !strings.HasSuffix(c.upn, "@"+domain) {
				t.Fatalf("BuildUPN(%q) = %q lacks the prefix or domain", c.email, c.upn)
			}
			if _, err := MailNickname(c.upn); err != nil {
				t.Fatalf("MailNickname(%q): %v", c.upn, err)
			}
			if again, err := BuildUPN(c.email, domain); err != nil || again != c.upn {
				t.Fatalf("BuildUPN(%q) not stable: %q then %q, %v", c.email, c.upn, again, err)
			}
		}
		if errA != nil || errB != nil {
			return
		}
		na, _ := normalizeEmail(a)
		nb, _ := normalizeEmail(b)
		if na != nb && ua == ub {
			t.Fatalf("%q and %q both map to %q", a, b, ua)
		}
		if na == nb && ua != ub {
			t.Fatalf("%q and %q are the same address but map to %q and %q", a, b, ua, ub)
		}
	})
}
