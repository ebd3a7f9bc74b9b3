package notify

import (
	"math"
	"strings"
)

// IntegerCents turns amounts that crossed a JSON payload (and so became
// float64) back into integer cents, as Render wants them.
func IntegerCents(data map[string]any) map[string]any {
	out := make(map[string]any, len(data))
	for k, v := range data {
		if f, ok := v.(float64); ok && strings.HasSuffix(k, "_cents") && f == math.Trunc(f) {
			v = int64(f)
		}
		out[k] = v
	}
	return out
}
