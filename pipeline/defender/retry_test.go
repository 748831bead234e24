package defender

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestShouldRetry(t *testing.T) {
	r := Retry{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: time.Second, MaxRetryAfter: time.Minute}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	hdr := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	soon := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)

	tests := []struct {
		name    string
		ctx     context.Context
		attempt int
		o       outcome
		want    verdict
		wait    [2]time.Duration // bounds, inclusive
	}{
		{"cancelled beats a retryable status", cancelled, 1, outcome{status: 500}, giveUp, [2]time.Duration{}},
		{"cancelled error", context.Background(), 1, outcome{err: context.Canceled}, giveUp, [2]time.Duration{}},
		{"429 retry-after seconds", context.Background(), 1, outcome{status: 429, header: hdr("2")}, retryLater, [2]time.Duration{2 * time.Second, 2 * time.Second}},
		{"429 retry-after date", context.Background(), 1, outcome{status: 429, header: hdr(soon)}, retryLater, [2]time.Duration{28 * time.Second, 30 * time.Second}},
		{"429 retry-after too long", context.Background(), 1, outcome{status: 429, header: hdr("3600")}, giveUp, [2]time.Duration{}},
		{"429 without retry-after backs off", context.Background(), 1, outcome{status: 429}, retryLater, [2]time.Duration{5 * time.Millisecond, 10 * time.Millisecond}},
		{"500 backs off, doubling", context.Background(), 3, outcome{status: 500}, retryLater, [2]time.Duration{20 * time.Millisecond, 40 * time.Millisecond}},
		{"503", context.Background(), 1, outcome{status: 503}, retryLater, [2]time.Duration{5 * time.Millisecond, 10 * time.Millisecond}},
		{"last attempt", context.Background(), 4, outcome{status: 500}, giveUp, [2]time.Duration{}},
		{"401 refreshes once", context.Background(), 1, outcome{status: 401}, refreshToken, [2]time.Duration{}},
		{"401 after refresh", context.Background(), 2, outcome{status: 401, refreshed: true}, giveUp, [2]time.Duration{}},
		{"403 is final", context.Background(), 1, outcome{status: 403}, giveUp, [2]time.Duration{}},
		{"404 is final", context.Background(), 1, outcome{status: 404}, giveUp, [2]time.Duration{}},
		{"body cut short", context.Background(), 1, outcome{err: io.ErrUnexpectedEOF}, retryLater, [2]time.Duration{5 * time.Millisecond, 10 * time.Millisecond}},
		{"bad certificate", context.Background(), 1, outcome{err: x509.UnknownAuthorityError{}}, giveUp, [2]time.Duration{}},
		{"bad page", context.Background(), 1, outcome{err: &permanentError{errors.New("x")}}, giveUp, [2]time.Duration{}},
		{"insecure url", context.Background(), 1, outcome{err: ErrInsecureURL}, giveUp, [2]time.Duration{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, wait := r.shouldRetry(tt.ctx, tt.attempt, tt.o)
			if v != tt.want {
				t.Fatalf("verdict = %d, want %d", v, tt.want)
			}
			if wait < tt.wait[0] || wait > tt.wait[1] {
				t.Errorf("wait = %s, want %s to %s", wait, tt.wait[0], tt.wait[1])
			}
		})
	}
}

func TestBackoffCapped(t *testing.T) {
	r := Retry{BaseDelay: time.Second, MaxDelay: 4 * time.Second}.withDefaults()
	for attempt := 1; attempt < 70; attempt++ {
		if d := r.backoff(attempt); d < 0 || d > 4*time.Second {
			t.Fatalf("backoff(%d) = %s, want within [0, 4s]", attempt, d)
		}
	}
}

func TestLimiterReserve(t *testing.T) {
	l, err := newLimiter("t", []Window{{2, 600 * time.Millisecond}, {3, 6 * time.Second}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	m1, m2 := margin(600*time.Millisecond), margin(6*time.Second)
	steps := []struct {
		at   time.Time
		want time.Duration
	}{
		{t0, 0},
		{t0, 0},
		{t0, 600*time.Millisecond + m1}, // minute window full
		{t0.Add(700 * time.Millisecond), 0 + 5300*time.Millisecond + m2}, // hour window full: first call + 6s
	}
	for i, s := range steps {
		if got, _ := l.reserve(s.at); got != s.want {
			t.Errorf("step %d: wait %s, want %s", i, got, s.want)
		}
	}
}

func TestLimiterSettleCountsFromTheAnswer(t *testing.T) {
	l, _ := newLimiter("t", []Window{{1, time.Second}}, nil)
	t0 := time.Unix(1000, 0)
	_, slot := l.reserve(t0)
	l.settle(slot, t0.Add(300*time.Millisecond)) // the answer came late
	l.settle(slot, t0)                           // and never moves back
	if got, _ := l.reserve(t0); got != 1300*time.Millisecond+margin(time.Second) {
		t.Errorf("wait %s, want 1.3s and the margin", got)
	}
}

func TestNewLimiterRefusesEmptyWindow(t *testing.T) {
	if _, err := newLimiter("x", []Window{{0, time.Second}}, nil); err == nil {
		t.Error("zero calls accepted")
	}
	if _, err := newLimiter("x", []Window{{1, 0}}, nil); err == nil {
		t.Error("zero span accepted")
	}
}
