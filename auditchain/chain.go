// Package auditchain makes the audit log tamper-evident: every event carries a sequence number
// and the hash of the event before it (one chain per MSP, i.e. per deployment), computed over a
// canonical encoding of the row, and the chain is sealed from time to time by a checkpoint
// signed with an Ed25519 key derived from the deployment's encryption keys. Verify walks a chain
// and names the first row that was edited, deleted or inserted.
package auditchain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// ChainID names the one chain of a deployment (one deployment serves one MSP).
const ChainID = "msp"

// GenesisHash is the previous hash of the first event of a chain.
var GenesisHash = strings.Repeat("0", 64)

// Record is an audit row as the chain sees it. Details is the stored JSON text, byte for byte.
type Record struct {
	Seq        int64
	ID         string
	CreatedAt  time.Time
	TenantID   string
	ActorID    string
	ActorKind  string
	Action     string
	Target     string
	Details    string
	WorkflowID string
	RunID      string
	PrevHash   string
	Hash       string // as stored; not part of the encoding
}

// Canonical is the byte string a record's hash covers: a version tag, then every field
// length-prefixed (so no two different rows encode alike), times as UTC microseconds.
func Canonical(r Record) []byte {
	var b []byte
	field := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	field("jitaccess-audit-v1")
	field(strconv.FormatInt(r.Seq, 10))
	field(r.ID)
	field(strconv.FormatInt(r.CreatedAt.UTC().UnixMicro(), 10))
	field(r.TenantID)
	field(r.ActorID)
	field(r.ActorKind)
	field(r.Action)
	field(r.Target)
	field(r.Details)
	field(r.WorkflowID)
	field(r.RunID)
	field(r.PrevHash)
	return b
}

// Hash is the hex SHA-256 of the record's canonical encoding.
func Hash(r Record) string {
	sum := sha256.Sum256(Canonical(r))
	return hex.EncodeToString(sum[:])
}

// Link sets r's sequence number and previous hash to follow a chain whose head is (seq, hash),
// and computes r.Hash.
func Link(r Record, headSeq int64, headHash string) Record {
	r.Seq = headSeq + 1
	r.PrevHash = headHash
	r.Hash = Hash(r)
	return r
}
