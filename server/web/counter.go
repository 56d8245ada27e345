package web

import (
	"sync"
	"time"
)

// WindowCounter counts events per key (a client address) in fixed windows. Its memory is
// bounded: past maxKeys live windows, new keys count as over any limit.
type WindowCounter struct {
	window  time.Duration
	maxKeys int

	mu   sync.Mutex
	keys map[string]*window
}

type window struct {
	count int
	start time.Time
}

// NewWindowCounter counts in windows of w.
func NewWindowCounter(w time.Duration) *WindowCounter {
	return &WindowCounter{window: w, maxKeys: 10000, keys: map[string]*window{}}
}

// Add counts one event of key and returns the count in the current window and when the
// window ends.
func (l *WindowCounter) Add(key string, now time.Time) (int, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.keys[key]
	if ok && now.Sub(f.start) < l.window {
		f.count++
		return f.count, f.start.Add(l.window)
	}
	if !ok && len(l.keys) >= l.maxKeys {
		for k, f := range l.keys {
			if now.Sub(f.start) >= l.window {
				delete(l.keys, k)
			}
		}
		if len(l.keys) >= l.maxKeys {
			return int(^uint(0) >> 1), now.Add(l.window)
		}
	}
	l.keys[key] = &window{count: 1, start: now}
	return 1, now.Add(l.window)
}
