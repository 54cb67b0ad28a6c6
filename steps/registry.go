package steps

import (
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"
)

// Registry holds step specs by kind. Default is the process-wide registry
// providers register into from init; tests make their own with NewRegistry
// so throwaway kinds never leak into the real one.
type Registry struct {
	mu    sync.RWMutex
	specs map[string]*Spec
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{specs: map[string]*Spec{}} }

// Default is the registry that provider packages register into.
var Default = NewRegistry()

// Register adds a spec to the default registry. It panics on an invalid or
// duplicate spec: registration happens in init, so a mistake is a
// programming error that must fail every test at once.
func Register(s Spec) { Default.Register(s) }

// Lookup finds a kind in the default registry.
func Lookup(kind string) (*Spec, bool) { return Default.Lookup(kind) }

// All lists the default registry's specs sorted by kind.
func All() []*Spec { return Default.All() }

var (
	kindRe  = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*(\.[a-z][a-z0-9]*(-[a-z0-9]+)*)+$`)
	paramRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// Register adds a spec; it panics when the spec is invalid or the kind is
// already registered.
func (r *Registry) Register(s Spec) {
	if err := s.check(); err != nil {
		panic(fmt.Sprintf("steps: register %q: %v", s.Kind, err))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.specs[s.Kind]; dup {
		panic(fmt.Sprintf("steps: register %q: kind already registered", s.Kind))
	}
	sp := s
	r.specs[s.Kind] = &sp
}

// Lookup returns the spec of a kind.
func (r *Registry) Lookup(kind string) (*Spec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.specs[kind]
	return s, ok
}

// All returns every spec sorted by kind.
func (r *Registry) All() []*Spec {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Spec, 0, len(r.specs))
	for _, s := range r.specs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// Kinds returns every registered kind, sorted.
func (r *Registry) Kinds() []string {
	all := r.All()
	out := make([]string, len(all))
	for i, s := range all {
		out[i] = s.Kind
	}
	return out
}

func (s *Spec) check() error {
	if s.Kind == "" {
		return fmt.Errorf("empty kind")
	}
	if !kindRe.MatchString(s.Kind) {
		return fmt.Errorf("kind must be dotted lower-case words such as aws.route53.set-weights")
	}
	if s.Title == "" || s.Summary == "" {
		return fmt.Errorf("title and summary are required")
	}
	if s.New == nil {
		return fmt.Errorf("New is nil")
	}
	if err := s.checkRuleDecls(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range s.Params {
		if !paramRe.MatchString(p.Name) {
			return fmt.Errorf("param %q: name must be lower_snake_case", p.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("param %q declared twice", p.Name)
		}
		seen[p.Name] = true
		if p.Doc == "" {
			return fmt.Errorf("param %q: doc is required", p.Name)
		}
		if e := p.CheckDecl(); e != nil {
			return fmt.Errorf("param %q: %v", p.Name, e)
		}
		if p.Default != nil {
			// The Go type is right (CheckDecl): only the enum is left.
			if _, err := p.Check(p.Default); err != nil {
				return fmt.Errorf("param %q: default not in enum: %v", p.Name, err)
			}
		}
	}
	seen = map[string]bool{}
	for _, o := range s.Outputs {
		if !paramRe.MatchString(o.Name) {
			return fmt.Errorf("output %q: name must be lower_snake_case", o.Name)
		}
		if seen[o.Name] {
			return fmt.Errorf("output %q declared twice", o.Name)
		}
		seen[o.Name] = true
		if o.Type == "" {
			return fmt.Errorf("output %q: type is required", o.Name)
		}
	}
	if s.Traffic != "" {
		o := s.Output(s.Traffic)
		if o == nil || (o.Type != Map && o.Type != String && o.Type != Int) {
			return fmt.Errorf("traffic %q: must name a declared map, string or int output", s.Traffic)
		}
	}
	return nil
}

func checkGoType(t Type, v any) error {
	ok := false
	switch t {
	case String:
		_, ok = v.(string)
	case Int:
		_, ok = v.(int)
	case Number:
		_, ok = v.(float64)
	case Bool:
		_, ok = v.(bool)
	case Duration:
		_, ok = v.(time.Duration)
	case List:
		_, ok = v.([]any)
	case Map:
		_, ok = v.(map[string]any)
	}
	if !ok {
		return fmt.Errorf("has Go type %T, want %s", v, GoType(t))
	}
	return nil
}
