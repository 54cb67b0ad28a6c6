package sql

import (
	"math/big"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

func TestConvert(t *testing.T) {
	num := func(i int64, exp int32) pgtype.Numeric {
		return pgtype.Numeric{Int: big.NewInt(i), Exp: exp, Valid: true}
	}
	for _, tc := range []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"int64 becomes int", int64(42), 42},
		{"int32 becomes int", int32(-7), -7},
		{"int16 becomes int", int16(3), 3},
		{"float32 becomes float64", float32(0.5), 0.5},
		{"text", "abc", "abc"},
		{"bool", true, true},
		{"time in UTC", time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), "2026-01-02T02:04:05Z"},
		{"integral numeric", num(55, 0), 55},
		{"numeric with exponent", num(12, 3), 12000},
		{"numeric with trailing zeros", num(1000, -2), 10},
		{"fractional numeric", num(1234, -2), 12.34},
		{"numeric NaN", pgtype.Numeric{NaN: true, Valid: true}, "NaN"},
		{"null numeric", pgtype.Numeric{}, nil},
		{"uuid", [16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0}, "12345678-9abc-def0-1234-56789abcdef0"},
		{"utf-8 bytes", []byte("hi"), "hi"},
		{"binary bytes", []byte{0xff, 0x00}, `\xff00`},
		{"inet", netip.MustParsePrefix("10.0.0.0/8"), "10.0.0.0/8"},
		{"array", []any{int64(1), nil, "x"}, []any{1, nil, "x"}},
		{"json object", map[string]any{"n": float64(1), "l": []any{int32(2)}}, map[string]any{"n": float64(1), "l": []any{2}}},
		{"interval via its text form", pgtype.Interval{Microseconds: 90 * 1e6, Days: 1, Valid: true}, "1 day 00:01:30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := convert(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("convert(%#v) = %#v (%T), want %#v (%T)", tc.in, got, got, tc.want, tc.want)
			}
		})
	}
}

func TestFrozen(t *testing.T) {
	for _, tc := range []struct {
		settings any
		want     bool
	}{
		{nil, false},
		{[]any{}, false},
		{[]any{"search_path=app"}, false},
		{[]any{"default_transaction_read_only=on"}, true},
		{[]any{"search_path=app", "default_transaction_read_only=true"}, true},
		{[]any{"default_transaction_read_only=off"}, false},
		{[]any{"DEFAULT_TRANSACTION_READ_ONLY=Yes"}, true},
		{[]any{"default_transaction_read_only=0"}, false},
	} {
		if got := frozen(tc.settings); got != tc.want {
			t.Errorf("frozen(%v) = %v, want %v", tc.settings, got, tc.want)
		}
	}
}
