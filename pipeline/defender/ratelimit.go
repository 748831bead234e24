package defender

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Window is one rate budget: at most Calls calls in any span of Per.
type Window struct {
	Calls int
	Per   time.Duration
}

// The service's documented budgets.
var (
	defaultExportBudget = []Window{{5, time.Minute}, {20, time.Hour}}
	defaultPagesBudget  = []Window{{30, time.Minute}, {1000, time.Hour}}
)

// limiter keeps a set of sliding windows over the times of the calls it
// allowed. It is proactive: a call waits for room in every window instead of
// being sent and refused with a 429.
//
// The service counts a call when it arrives, which is after the client
// allowed it (a token to fetch, a connection to open). So a slot is booked
// at the time the call is allowed, then moved to the time its answer came
// back (settle), which is never before its arrival; and a slot is kept a
// little past its window (margin) for clock granularity.
type limiter struct {
	name    string
	windows []Window
	log     *slog.Logger

	mu    sync.Mutex
	slots []*time.Time // one per call still inside the longest window
}

func newLimiter(name string, windows []Window, log *slog.Logger) (*limiter, error) {
	for _, w := range windows {
		if w.Calls < 1 || w.Per <= 0 {
			return nil, fmt.Errorf("%s budget %d calls per %s: need at least one call per positive span", name, w.Calls, w.Per)
		}
	}
	return &limiter{name: name, windows: windows, log: log}, nil
}

// margin is how long past its window a call still counts.
func margin(per time.Duration) time.Duration { return per / 60 }

// reserve books the earliest time a call fits every window. It returns how
// long to wait for it, and the slot to settle once the call is answered.
func (l *limiter) reserve(now time.Time) (time.Duration, *time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()

	// Settling can reorder slots; the windows need them in time order.
	slices.SortFunc(l.slots, func(a, b *time.Time) int { return a.Compare(*b) })
	at := now
	keep := time.Duration(0)
	for _, w := range l.windows {
		if n := len(l.slots); n >= w.Calls {
			if free := l.slots[n-w.Calls].Add(w.Per + margin(w.Per)); free.After(at) {
				at = free
			}
		}
		keep = max(keep, w.Per+margin(w.Per))
	}
	slot := &at
	l.slots = append(l.slots, slot)

	// Forget calls older than the longest window: they bind no more.
	drop := 0
	for drop < len(l.slots) && l.slots[drop].Before(now.Add(-keep)) {
		drop++
	}
	l.slots = l.slots[drop:]
	return at.Sub(now), slot
}

// settle moves a booked slot to the time its call was answered.
func (l *limiter) settle(slot *time.Time, answered time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if answered.After(*slot) {
		*slot = answered
	}
}

// wait blocks until the next call is within budget and returns its slot.
// A wait of a few seconds or more is logged, so that a slow run is
// explained.
func (l *limiter) wait(ctx context.Context) (*time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, slot := l.reserve(time.Now())
	if d <= 0 {
		return slot, nil
	}
	if d >= 2*time.Second {
		l.log.Info("waiting for rate budget", "budget", l.name, "wait", d.Round(time.Second))
	}
	return slot, sleep(ctx, d)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
