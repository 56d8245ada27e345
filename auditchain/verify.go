package auditchain

import (
	"fmt"
	"sort"
)

// Finding kinds: what Verify concludes happened to a row.
const (
	Edited        = "edited"
	Deleted       = "deleted"
	Inserted      = "inserted"
	BadCheckpoint = "checkpoint"
)

// Finding is the first inconsistency of a chain: the row (id, sequence number) it is about.
type Finding struct {
	Kind   string
	Seq    int64
	ID     string
	Detail string
}

func (f *Finding) Error() string {
	id := f.ID
	if id == "" {
		id = "(missing)"
	}
	return fmt.Sprintf("audit chain: %s row %s at seq %d: %s", f.Kind, id, f.Seq, f.Detail)
}

// Head is the chain head as stored: the last sequence number and its hash.
type Head struct {
	Seq  int64
	Hash string
}

// Result sums up a verified chain.
type Result struct {
	Rows        int
	FirstSeq    int64
	LastSeq     int64
	Checkpoints int
	KeyIDs      []string // keys whose checkpoints verified
}

// Verifier walks one chain row by row in sequence order. Start it from an anchor: the genesis
// (Head{0, GenesisHash}) or a verified checkpoint (a retention cut, or the start of --since).
type Verifier struct {
	keys        *Keys
	anchor      Head
	head        Head
	checkpoints map[int64]Checkpoint
	prev, prev2 *Record
	res         Result
	keysSeen    map[string]bool
	found       *Finding
}

// NewVerifier checks every checkpoint's signature and returns a verifier for rows after anchor.
func NewVerifier(keys *Keys, anchor, head Head, checkpoints []Checkpoint) (*Verifier, error) {
	v := &Verifier{keys: keys, anchor: anchor, head: head, checkpoints: map[int64]Checkpoint{}, keysSeen: map[string]bool{}}
	for _, c := range checkpoints {
		if err := keys.VerifyCheckpoint(c); err != nil {
			return nil, &Finding{Kind: BadCheckpoint, Seq: c.Seq, Detail: err.Error()}
		}
		v.checkpoints[c.Seq] = c
		v.keysSeen[c.KeyID] = true
		v.res.Checkpoints++
	}
	if c, ok := v.checkpoints[head.Seq]; ok && c.Hash != head.Hash {
		return nil, &Finding{Kind: Edited, Seq: head.Seq, Detail: "the chain head's hash differs from the signed checkpoint at its sequence number"}
	}
	return v, nil
}

// Add takes the next row (in ascending seq order) and returns the first finding, if any;
// once a finding is returned every later call returns it again.
func (v *Verifier) Add(r Record) *Finding {
	if v.found != nil {
		return v.found
	}
	v.found = v.check(r)
	if v.found == nil {
		rc := r
		v.prev2, v.prev = v.prev, &rc
		if v.res.Rows == 0 {
			v.res.FirstSeq = r.Seq
		}
		v.res.Rows++
		v.res.LastSeq = r.Seq
	}
	return v.found
}

func (v *Verifier) check(r Record) *Finding {
	if got := Hash(r); got != r.Hash {
		for _, d := range []int64{-1, 1, -2, 2, -3, 3} {
			moved := r
			moved.Seq = r.Seq + d
			if Hash(moved) != r.Hash {
				continue
			}
			if d < 0 && v.prev != nil {
				return &Finding{Kind: Inserted, Seq: v.prev.Seq, ID: v.prev.ID,
					Detail: fmt.Sprintf("not part of the chain: row %s after it was renumbered from seq %d to %d", r.ID, moved.Seq, r.Seq)}
			}
			if d > 0 {
				return &Finding{Kind: Deleted, Seq: r.Seq, ID: "",
					Detail: fmt.Sprintf("%d row(s) before row %s are gone and later rows were renumbered (it was seq %d)", d, r.ID, moved.Seq)}
			}
		}
		return &Finding{Kind: Edited, Seq: r.Seq, ID: r.ID, Detail: "its content no longer matches its hash"}
	}
	if c, ok := v.checkpoints[r.Seq]; ok && c.Hash != r.Hash {
		return &Finding{Kind: Edited, Seq: r.Seq, ID: r.ID, Detail: "its hash differs from the signed checkpoint at this sequence number"}
	}
	prevSeq, prevHash := v.anchor.Seq, v.anchor.Hash
	if v.prev != nil {
		prevSeq, prevHash = v.prev.Seq, v.prev.Hash
	}
	if r.Seq > prevSeq+1 {
		return &Finding{Kind: Deleted, Seq: prevSeq + 1,
			Detail: fmt.Sprintf("seq %d to %d missing before row %s", prevSeq+1, r.Seq-1, r.ID)}
	}
	if r.Seq <= prevSeq {
		return &Finding{Kind: Inserted, Seq: r.Seq, ID: r.ID, Detail: fmt.Sprintf("repeats sequence number %d", r.Seq)}
	}
	if r.Seq > v.head.Seq {
		return &Finding{Kind: Inserted, Seq: r.Seq, ID: r.ID, Detail: fmt.Sprintf("beyond the chain head (seq %d)", v.head.Seq)}
	}
	if r.PrevHash != prevHash {
		switch {
		case v.prev == nil:
			return &Finding{Kind: Edited, Seq: r.Seq, ID: r.ID, Detail: fmt.Sprintf("does not follow the anchor at seq %d", v.anchor.Seq)}
		case v.prev2 != nil && r.PrevHash == v.prev2.Hash, v.prev2 == nil && r.PrevHash == v.anchor.Hash:
			return &Finding{Kind: Inserted, Seq: v.prev.Seq, ID: v.prev.ID, Detail: fmt.Sprintf("not part of the chain: row %s follows the row before it", r.ID)}
		default:
			return &Finding{Kind: Edited, Seq: v.prev.Seq, ID: v.prev.ID, Detail: fmt.Sprintf("rewritten: row %s recorded another hash for it", r.ID)}
		}
	}
	return nil
}

// Finish checks the end of the chain against the head and the checkpoints.
func (v *Verifier) Finish() (Result, *Finding) {
	if v.found != nil {
		return v.res, v.found
	}
	lastSeq, lastHash := v.anchor.Seq, v.anchor.Hash
	if v.prev != nil {
		lastSeq, lastHash = v.prev.Seq, v.prev.Hash
	}
	switch {
	case lastSeq < v.head.Seq:
		v.found = &Finding{Kind: Deleted, Seq: lastSeq + 1, Detail: fmt.Sprintf("seq %d to %d missing at the end of the chain", lastSeq+1, v.head.Seq)}
	case lastHash != v.head.Hash:
		v.found = &Finding{Kind: Edited, Seq: lastSeq, Detail: "the last row's hash differs from the chain head"}
		if v.prev != nil {
			v.found.ID = v.prev.ID
		}
	}
	for seq := range v.checkpoints {
		if v.found == nil && seq > lastSeq {
			v.found = &Finding{Kind: Deleted, Seq: seq, Detail: "a signed checkpoint covers a row that is gone"}
		}
	}
	for id := range v.keysSeen {
		v.res.KeyIDs = append(v.res.KeyIDs, id)
	}
	sort.Strings(v.res.KeyIDs)
	return v.res, v.found
}
