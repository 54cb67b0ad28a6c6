package engine

// scrub removes sensitive input values from text.
// (secrets.go: every secret, whatever its length; credentials too).
func (rc *runCtx) scrub(s string) string { return maskText(s, rc.secrets.all()) }

func (rc *runCtx) scrubValue(v any) any { return maskValue(v, rc.secrets.all()) }

func (rc *runCtx) scrubMap(m map[string]any) map[string]any {
	secrets := rc.secrets.all()
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = maskValue(v, secrets)
	}
	return out
}
