package sql

import (
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
)

// convert turns a value decoded by pgx into the types runbook expressions
// and the journal work with: int, float64, string, bool, nil, []any and
// map[string]any. Integers of every width become int so that `count == 3`
// holds; an integral numeric (what sum() of integers returns) becomes int
// too, other numerics float64; times become RFC 3339 text in UTC; anything
// else is rendered as PostgreSQL would print it.
func convert(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64:
		return x
	case int:
		return x
	case int8:
		return int(x)
	case int16:
		return int(x)
	case int32:
		return int(x)
	case int64:
		return int(x)
	case uint32:
		return int(x)
	case float32:
		return float64(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case pgtype.Numeric:
		return numeric(x)
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
		return `\x` + hex.EncodeToString(x)
	case [16]byte:
		return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16])
	case netip.Prefix:
		return x.String()
	case netip.Addr:
		return x.String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = convert(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = convert(e)
		}
		return out
	case driver.Valuer:
		// pgtype's own types (interval, time of day, ranges) know their
		// text form.
		dv, err := x.Value()
		if err != nil || dv == nil {
			return nil
		}
		if s, ok := dv.(string); ok {
			return s
		}
		return convert(dv)
	default:
		return fmt.Sprint(x)
	}
}

// numeric converts a NUMERIC: int when it is integral and fits, float64
// otherwise, text for NaN and infinities.
func numeric(n pgtype.Numeric) any {
	if !n.Valid {
		return nil
	}
	if n.NaN || n.InfinityModifier != pgtype.Finite {
		v, _ := n.Value()
		return v
	}
	if n.Exp >= 0 {
		i := new(big.Int).Mul(n.Int, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n.Exp)), nil))
		if i.IsInt64() {
			return int(i.Int64())
		}
	} else {
		// An integral value can arrive with trailing zero digits (10.00).
		div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-n.Exp)), nil)
		q, r := new(big.Int).QuoRem(n.Int, div, new(big.Int))
		if r.Sign() == 0 && q.IsInt64() {
			return int(q.Int64())
		}
	}
	f, err := n.Float64Value()
	if err != nil || !f.Valid || math.IsInf(f.Float64, 0) {
		v, _ := n.Value()
		return v
	}
	return f.Float64
}
