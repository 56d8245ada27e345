package sqlstore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Pagination limits.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Page asks for one page of a list, newest first. Cursor is the NextCursor of the previous
// page, empty for the first.
type Page struct {
	Limit  int
	Cursor string
}

// cursor is the position after which the next page starts: the (time, id) of the last item.
type cursor struct {
	T  time.Time `json:"t"`
	ID string    `json:"id"`
}

func encodeCursor(t time.Time, id string) string {
	b, _ := json.Marshal(cursor{T: t.UTC(), ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID == "" || c.T.IsZero() {
		return c, ErrBadCursor
	}
	c.T = DBTime(c.T)
	return c, nil
}

func (p Page) limit() int {
	switch {
	case p.Limit <= 0:
		return DefaultLimit
	case p.Limit > MaxLimit:
		return MaxLimit
	default:
		return p.Limit
	}
}

// Paginate orders q newest first on (timeCol, idCol), starts after the page's cursor and
// fetches one row more than the limit, which tells whether a next page exists.
func Paginate(q *bun.SelectQuery, p Page, timeCol, idCol string) (*bun.SelectQuery, error) {
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor)
		if err != nil {
			return nil, err
		}
		q = q.Where("(? < ? OR (? = ? AND ? < ?))",
			bun.Ident(timeCol), c.T, bun.Ident(timeCol), c.T, bun.Ident(idCol), c.ID)
	}
	return q.OrderExpr("? DESC, ? DESC", bun.Ident(timeCol), bun.Ident(idCol)).Limit(int64(p.limit() + 1)), nil
}

// Trim cuts the extra row fetched by Paginate and returns the next cursor ("" at the end).
func Trim[T any](rows []T, p Page, key func(T) (time.Time, string)) ([]T, string) {
	if len(rows) <= p.limit() {
		return rows, ""
	}
	rows = rows[:p.limit()]
	t, id := key(rows[len(rows)-1])
	return rows, encodeCursor(t, id)
}

// ErrCursor wraps a bad cursor for the caller.
func ErrCursor(err error) error { return fmt.Errorf("list: %w", err) }
