package lobby

import (
	"testing"
	"time"
)

func TestStamp(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, paris)
	tests := []struct {
		name string
		at   time.Time
		loc  *time.Location
		want string
	}{
		{"today", time.Date(2026, 3, 14, 8, 30, 0, 0, paris), paris, "08:30"},
		{"today, stored in UTC", time.Date(2026, 3, 14, 7, 30, 0, 0, time.UTC), paris, "08:30"},
		{"yesterday", time.Date(2026, 3, 13, 23, 59, 0, 0, paris), paris, "Mar 13 23:59"},
		{"yesterday in UTC, today in Paris", time.Date(2026, 3, 13, 23, 30, 0, 0, time.UTC), paris, "00:30"},
		{"today in UTC, yesterday in Paris", time.Date(2026, 3, 13, 22, 30, 0, 0, time.UTC), paris, "Mar 13 23:30"},
		{"an earlier year", time.Date(2025, 12, 31, 20, 0, 0, 0, paris), paris, "2025-12-31 20:00"},
		{"in UTC", time.Date(2026, 3, 14, 7, 30, 0, 0, time.UTC), time.UTC, "07:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Message{At: tt.at}
			if got := m.Stamp(now, tt.loc); got != tt.want {
				t.Errorf("Stamp = %q, want %q", got, tt.want)
			}
		})
	}
}
