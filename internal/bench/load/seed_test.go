package load

import (
	"strings"
	"testing"
)

func TestInterleaveSpreadsOverTenants(t *testing.T) {
	ts := []Tenant{
		{ID: "a", Pairs: []Pair{{TechnicianID: "a1"}, {TechnicianID: "a2"}, {TechnicianID: "a3"}}},
		{ID: "b", Pairs: []Pair{{TechnicianID: "b1"}}},
		{ID: "c", Pairs: []Pair{{TechnicianID: "c1"}, {TechnicianID: "c2"}}},
	}
	var got []string
	for _, p := range Interleave(ts) {
		got = append(got, p.TechnicianID)
	}
	if strings.Join(got, ",") != "a1,b1,c1,a2,c2,a3" {
		t.Fatalf("interleave = %v", got)
	}
}
