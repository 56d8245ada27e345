package directory

import (
	"errors"
	"strings"
	"testing"
)

func TestNewPasswordAlwaysValid(t *testing.T) {
	seen := make(map[string]bool)
	for i := 0; i < 2000; i++ {
		p := NewPassword()
		if err := ValidPassword(p); err != nil {
			t.Fatalf("generated password fails the policy: %v", err)
		}
		if len(p) != PasswordLength {
			t.Fatalf("length %d, want %d", len(p), PasswordLength)
		}
		var lower, upper, digit, symbol bool
		for _, c := range p {
			switch {
			case strings.ContainsRune(pwLower, c):
				lower = true
			case strings.ContainsRune(pwUpper, c):
				upper = true
			case strings.ContainsRune(pwDigits, c):
				digit = true
			case strings.ContainsRune(pwSymbols, c):
				symbol = true
			default:
				t.Fatalf("unexpected character %q", c)
			}
		}
		if !lower || !upper || !digit || !symbol {
			t.Fatalf("password lacks a character class")
		}
		if seen[p] {
			t.Fatalf("duplicate password after %d draws", i)
		}
		seen[p] = true
	}
}

func TestGeneratedSymbolsAreEntraSymbols(t *testing.T) {
	for i := 0; i < len(pwSymbols); i++ {
		if !isEntraSymbol(pwSymbols[i]) {
			t.Errorf("%q is not in Entra's symbol set", pwSymbols[i])
		}
	}
}

func TestRandIntnCoversRange(t *testing.T) {
	counts := make([]int, 7)
	for i := 0; i < 7000; i++ {
		counts[randIntn(7)]++
	}
	for v, n := range counts {
		if n < 700 || n > 1300 {
			t.Errorf("value %d drawn %d times of 7000", v, n)
		}
	}
}

func TestValidPassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		wantErr  string // substring; empty = valid
	}{
		{"four classes", "Abcdef1!", ""},
		{"three classes no symbol", "Abcdefg1", ""},
		{"three classes no digit", "Abcdefg!", ""},
		{"three classes no upper", "abcdef1!", ""},
		{"three classes no lower", "ABCDEF1!", ""},
		{"space counts as symbol", "abc def 1", ""},
		{"all entra symbols", "Aa1" + entraSymbols, ""},
		{"max length", "Aa1" + strings.Repeat("x", 253), ""},
		{"too short", "Ab1!xyz", "length 7"},
		{"empty", "", "length 0"},
		{"too long", "Aa1" + strings.Repeat("x", 254), "length 257"},
		{"two classes", "abcdefgh1", "2 of the 4"},
		{"one class", "abcdefghij", "1 of the 4"},
		{"non-ascii", "Abcdef1!é", "position 9"},
		{"tab refused", "Abcdef1!\t", "position 9"},
		{"symbol outside set", "Abcdef1!€", "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidPassword(tt.password)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidPassword: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidPassword accepted %q", tt.password)
			}
			if !errors.Is(err, ErrWeakPassword) {
				t.Errorf("error %v does not wrap ErrWeakPassword", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			if len(tt.password) >= 4 && strings.Contains(err.Error(), tt.password) {
				t.Errorf("error leaks the password")
			}
		})
	}
}
