package engine

import (
	"fmt"
	"sync"
)

// world is the fake outside state the test steps read and change.
type world struct {
	mu      sync.Mutex
	weights map[string]int
	sizes   map[string]int
	// healthAfter: the group reports all targets healthy after this many polls.
	healthAfter map[string]int
	polls       map[string]int
	metrics     []float64
	metricIdx   int
	fail        map[string]int // step name -> fail the next N calls (-1 forever)
	calls       []string
}

func newWorld() *world {
	return &world{
		weights:     map[string]int{"blue": 100, "green": 0},
		sizes:       map[string]int{"web-blue": 3, "web-green": 0},
		healthAfter: map[string]int{},
		polls:       map[string]int{},
		fail:        map[string]int{},
	}
}

func (w *world) err(name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, name)
	n := w.fail[name]
	if n == 0 {
		return nil
	}
	if n > 0 {
		w.fail[name] = n - 1
	}
	return fmt.Errorf("%s: injected failure", name)
}

func (w *world) weightsMap() map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := map[string]any{}
	for k, v := range w.weights {
		m[k] = v
	}
	return m
}

func (w *world) setWeights(m map[string]any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, v := range m {
		w.weights[k] = v.(int)
	}
}

func (w *world) size(g string) int { w.mu.Lock(); defer w.mu.Unlock(); return w.sizes[g] }
func (w *world) setSize(g string, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sizes[g] = n
}

func (w *world) poll(g string) (int, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.polls[g]++
	total := w.sizes[g]
	after, ok := w.healthAfter[g]
	if !ok || w.polls[g] > after {
		return total, total
	}
	return 0, total
}

func (w *world) metric() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.metrics) == 0 {
		return 0
	}
	v := w.metrics[min(w.metricIdx, len(w.metrics)-1)]
	w.metricIdx++
	return v
}
