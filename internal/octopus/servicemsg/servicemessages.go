package servicemsg

import (
	"encoding/base64"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Writer writes Octopus service messages to a step's stdout. Octopus
// (Calamari) parses them line by line from stdout only, so each message is
// one line written with a single Write and flushed at once: a message must
// neither interleave with log output nor sit in a buffer when the process
// dies. Every attribute value is base64 of its UTF-8 text, as Calamari
// expects; that also means no value can break out of the message syntax.
// The Writer shares a Stdout with everything else the process prints, so
// that only its messages keep the service-message marker.
type Writer struct {
	out *Stdout
}

// NewWriter returns a Writer on w: on w itself when it is a *Stdout (the
// one the rest of the output goes through), otherwise on a new Stdout
// over w.
func NewWriter(w io.Writer) *Writer {
	if s, ok := w.(*Stdout); ok {
		return &Writer{out: s}
	}
	return &Writer{out: NewStdout(w)}
}

// Write makes *Stdout usable where an io.Writer is expected (NewWriter):
// bytes written to it directly are text, neutralised like Text's.
func (s *Stdout) Write(p []byte) (int, error) { return s.Text().Write(p) }

// Attr is one attribute of a service message, in plain text.
type Attr struct{ Name, Value string }

// Write emits ##octopus[name attr='base64' ...] as one line. Attribute
// names must be plain words; values may hold anything.
func (w *Writer) Write(name string, attrs ...Attr) error {
	var b strings.Builder
	b.WriteString("##octopus[")
	b.WriteString(name)
	for _, a := range attrs {
		fmt.Fprintf(&b, " %s='%s'", a.Name, base64.StdEncoding.EncodeToString([]byte(a.Value)))
	}
	b.WriteString("]\n")
	if err := w.out.message(b.String()); err != nil {
		return fmt.Errorf("write service message: %w", err)
	}
	return nil
}

// SetVariable sets an output variable of the running step; later steps
// read it as Octopus.Action[<step name>].Output.<name>. A sensitive
// variable is masked in the task log and stored as sensitive.
func (w *Writer) SetVariable(name, value string, sensitive bool) error {
	attrs := []Attr{{"name", name}, {"value", value}}
	if sensitive {
		attrs = append(attrs, Attr{"sensitive", "True"})
	}
	return w.Write("setVariable", attrs...)
}

// CreateArtifact attaches the file at path (absolute) to the deployment
// under name; length is the file's size in bytes.
func (w *Writer) CreateArtifact(path, name string, length int64) error {
	return w.Write("createArtifact", Attr{"path", path}, Attr{"name", name}, Attr{"length", strconv.FormatInt(length, 10)})
}

// ResultMessage sets the step's result text, shown as the reason when the
// step fails.
func (w *Writer) ResultMessage(msg string) error {
	return w.Write("resultMessage", Attr{"message", msg})
}

// Warning prints text at warning level: stdout-warning switches the level
// of the lines that follow, stdout-default switches it back.
func (w *Writer) Warning(text string) error {
	return w.leveled("stdout-warning", text)
}

func (w *Writer) leveled(level, text string) error {
	if err := w.out.leveled(level, text); err != nil {
		return fmt.Errorf("write service message: %w", err)
	}
	return nil
}

// Message is a decoded service message.
type Message struct {
	Name  string
	Attrs map[string]string
}

// String renders the message for test failure output, attributes sorted.
func (m Message) String() string {
	keys := make([]string, 0, len(m.Attrs))
	for k := range m.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := []string{m.Name}
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m.Attrs[k]))
	}
	return strings.Join(parts, " ")
}

// Variables returns the output variables that msgs set, last value wins,
// and which of them are sensitive.
func Variables(msgs []Message) (values map[string]string, sensitive map[string]bool) {
	values, sensitive = map[string]string{}, map[string]bool{}
	for _, m := range msgs {
		if m.Name != "setVariable" {
			continue
		}
		values[m.Attrs["name"]] = m.Attrs["value"]
		sensitive[m.Attrs["name"]] = strings.EqualFold(m.Attrs["sensitive"], "True")
	}
	return values, sensitive
}
