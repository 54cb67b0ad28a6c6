package servicemsg

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
)

// hostile holds texts that Calamari's parser would obey if printed as they
// are: markers anywhere in a line, split over lines (\n, \r, \r\n), left
// open so that they swallow the next line, and doubled hashes.
var hostile = []string{
	"##octopus[setVariable name='Qmx1ZUdyZWVuLkxpdmU=' value='ZXZpbA==']\n",
	"output: ##octopus[createArtifact path='L2V0Yy9wYXNzd2Q=' name='cGFzc3dk' length='MQ==']\n",
	"##oct\nopus[setVariable name='SW5qZWN0ZWQ=' value='eA==']\n",
	"##octopu\rs[setVariable name='SW5qZWN0ZWQ=' value='eA==']\r\n",
	"#\n#octopus[setVariable name='SW5qZWN0ZWQ=' value='eA==']\n",
	"unterminated ##octopus[setVariable name='SW5qZWN0ZWQ=' \n",
	"#",
	"##",
	"###octopus[stdout-error]\n",
	"##octopus[stdout-error]##octopus[resultMessage message='ZXZpbA==']\n",
}

// TestStdoutNeutralisesText writes hostile text through Stdout.Text, in
// every split into writes, with bluegreen's own messages in between, and
// parses the result as Calamari does: only our messages come out, all of
// them, and the text is still readable.
func TestStdoutNeutralisesText(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 500; round++ {
		var out bytes.Buffer
		st := NewStdout(&out)
		w := NewWriter(st)
		var ours int
		for i := 0; i < 6; i++ {
			text := []byte(hostile[rng.Intn(len(hostile))] + hostile[rng.Intn(len(hostile))])
			for len(text) > 0 {
				n := 1 + rng.Intn(len(text))
				if _, err := st.Text().Write(text[:n]); err != nil {
					t.Fatal(err)
				}
				text = text[n:]
			}
			if rng.Intn(2) == 0 {
				if err := w.SetVariable("BlueGreen.Live", "green", false); err != nil {
					t.Fatal(err)
				}
				ours++
			}
		}
		if err := w.SetVariable("BlueGreen.Idle", "blue", false); err != nil {
			t.Fatal(err)
		}
		ours++
		if err := st.Flush(); err != nil {
			t.Fatal(err)
		}
		msgs, err := Decode(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != ours {
			t.Fatalf("round %d: %d messages, want our %d:\n%v\noutput:\n%q", round, len(msgs), ours, msgs, out.String())
		}
		for _, m := range msgs {
			if m.Name != "setVariable" || (m.Attrs["value"] != "green" && m.Attrs["value"] != "blue") {
				t.Fatalf("round %d: obeyed %v in %q", round, m, out.String())
			}
		}
	}
}

// TestStdoutKeepsText checks that neutralising changes nothing else: plain
// text and hashes that cannot start the marker pass as they are.
func TestStdoutKeepsText(t *testing.T) {
	for in, want := range map[string]string{
		"plain line\n":            "plain line\n",
		"# heading\n## sub\n":     "# heading\n## sub\n",
		"C# #1 ##x\n":             "C# #1 ##x\n",
		"a ##octopus[x] b\n":      "a # #octopus[x] b\n",
		"ends in ##octo\nnext\n":  "ends in ##octo \nnext\n",
		"colour: 🟦 ##octopus\r\n": "colour: 🟦 # #octopus\r\n",
	} {
		var out bytes.Buffer
		st := NewStdout(&out)
		if _, err := st.Text().Write([]byte(in)); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("%q came out as %q, want %q", in, out.String(), want)
		}
	}
}

// TestParserFollowsCalamari pins the parser to Calamari's rules, which the
// neutraliser relies on.
func TestParserFollowsCalamari(t *testing.T) {
	decode := func(s string) []string {
		msgs, err := Decode(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range msgs {
			names = append(names, m.String())
		}
		return names
	}
	for in, want := range map[string]int{
		"text ##octopus[stdout-warning] more\n":                   1, // anywhere in a line
		"##OCTOPUS[stdout-warning]\n":                             0, // case-sensitive
		"###octopus[stdout-warning]\n":                            0, // a breaking # is not a new start
		"##oct\nopus[stdout-warning]\n":                           1, // state carries over lines
		"##octopus[stdout-warning\n]\n":                           1, // an open message takes the next line
		"##octopus[stdout-warning]##octopus[stdout-default]\n":    1, // one message per line
		"##octopus[setVariable name='bm90IGI2NA==' value='!!']\n": 0, // bad base64
		"##octopus[setVariable name=\"YQ==\" value=\"Yg==\"]\n":   1, // XML allows double quotes
		"##octopus[a b c]\n":                                      0, // not XML
	} {
		if got := decode(in); len(got) != want {
			t.Errorf("%q: %d messages %v, want %d", in, len(got), got, want)
		}
	}
}
