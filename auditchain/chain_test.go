package auditchain_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/auditchain"
)

func chain(n int) []auditchain.Record {
	var out []auditchain.Record
	seq, hash := int64(0), auditchain.GenesisHash
	for i := range n {
		r := auditchain.Link(auditchain.Record{ID: fmt.Sprint("aud_", i+1), CreatedAt: time.Unix(int64(1000+i), 0), ActorID: "system",
			ActorKind: "system", Action: "grant.activated", Target: "grt_1", Details: `{"i":1}`}, seq, hash)
		out = append(out, r)
		seq, hash = r.Seq, r.Hash
	}
	return out
}

func verify(keys *auditchain.Keys, rows []auditchain.Record, head auditchain.Head, cps ...auditchain.Checkpoint) (auditchain.Result, error) {
	v, err := auditchain.NewVerifier(keys, auditchain.Head{Hash: auditchain.GenesisHash}, head, cps)
	if err != nil {
		return auditchain.Result{}, err
	}
	for _, r := range rows {
		if f := v.Add(r); f != nil {
			return auditchain.Result{}, f
		}
	}
	res, f := v.Finish()
	if f != nil {
		return res, f
	}
	return res, nil
}

func TestVerify(t *testing.T) {
	keys, err := auditchain.NewKeys([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		tamper func(rows []auditchain.Record) ([]auditchain.Record, auditchain.Head)
		kind   string
		seq    int64
		id     string
	}{
		{"intact", func(r []auditchain.Record) ([]auditchain.Record, auditchain.Head) { return r, head(r) }, "", 0, ""},
		{"edited", func(r []auditchain.Record) ([]auditchain.Record, auditchain.Head) {
			h := head(r)
			r[2].Target = "grt_2"
			return r, h
		}, auditchain.Edited, 3, "aud_3"},
		{"edited and rehashed", func(r []auditchain.Record) ([]auditchain.Record, auditchain.Head) {
			h := head(r)
			r[1].ActorID = "tec_x"
			r[1].Hash = auditchain.Hash(r[1])
			return r, h
		}, auditchain.Edited, 2, "aud_2"},
		{"deleted", func(r []auditchain.Record) ([]auditchain.Record, auditchain.Head) {
			return append(r[:1:1], r[2:]...), head(r)
		}, auditchain.Deleted, 2, ""},
		{"deleted at the end", func(r []auditchain.Record) ([]auditchain.Record, auditchain.Head) {
			return r[:4], head(r)
		}, auditchain.Deleted, 5, ""},
		{"inserted at the end", func(r []auditchain.Record) ([]auditchain.Record, auditchain.Head) {
			h := head(r)
			return append(r, auditchain.Link(auditchain.Record{ID: "aud_x"}, r[4].Seq, r[4].Hash)), h
		}, auditchain.Inserted, 6, "aud_x"},
		{"head moved past the last row", func(r []auditchain.Record) ([]auditchain.Record, auditchain.Head) {
			h := head(r)
			h.Hash = strings.Repeat("1", 64)
			return r, h
		}, auditchain.Edited, 5, "aud_5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, h := tt.tamper(chain(5))
			_, err := verify(keys, rows, h)
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("intact chain: %v", err)
				}
				return
			}
			var f *auditchain.Finding
			if !errors.As(err, &f) || f.Kind != tt.kind || f.Seq != tt.seq || f.ID != tt.id {
				t.Fatalf("got %v, want %s at seq %d row %q", err, tt.kind, tt.seq, tt.id)
			}
		})
	}
}

func head(r []auditchain.Record) auditchain.Head {
	return auditchain.Head{Seq: r[len(r)-1].Seq, Hash: r[len(r)-1].Hash}
}

func TestCanonicalSeparatesFields(t *testing.T) {
	a := auditchain.Record{ActorID: "ab", ActorKind: "c"}
	b := auditchain.Record{ActorID: "a", ActorKind: "bc"}
	if auditchain.Hash(a) == auditchain.Hash(b) {
		t.Fatal("moving bytes between fields must change the hash")
	}
}

func TestCheckpointKeysRotate(t *testing.T) {
	oldK, newK := []byte(strings.Repeat("o", 32)), []byte(strings.Repeat("n", 32))
	old, _ := auditchain.NewKeys(oldK)
	rotated, _ := auditchain.NewKeys(newK, oldK)
	c := old.Sign(auditchain.Checkpoint{Seq: 3, Hash: "h", CreatedAt: time.Now(), Reason: auditchain.ReasonPeriodic})
	if err := rotated.VerifyCheckpoint(c); err != nil {
		t.Fatalf("old checkpoint after rotation: %v", err)
	}
	fresh, _ := auditchain.NewKeys(newK)
	if err := fresh.VerifyCheckpoint(c); !errors.Is(err, auditchain.ErrBadSignature) {
		t.Fatalf("without the old key: %v", err)
	}
	c.Seq = 4
	if err := rotated.VerifyCheckpoint(c); !errors.Is(err, auditchain.ErrBadSignature) {
		t.Fatalf("altered checkpoint: %v", err)
	}
	if _, ok := rotated.PublicKey(old.CurrentKeyID()); !ok {
		t.Fatal("the old public key is still published")
	}
}
