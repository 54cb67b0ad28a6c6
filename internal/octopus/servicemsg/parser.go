package servicemsg

import (
	"bufio"
	"encoding/base64"
	"encoding/xml"
	"io"
	"strings"
)

// Parser reads service messages the way Calamari does
// (Calamari.Common/Plumbing/ServiceMessages/ServiceMessageParser.cs), so
// that tests see exactly what a real worker would obey:
//
//   - the marker "##octopus" may start anywhere in a line and is
//     case-sensitive; a "#" that breaks a half-matched marker is not looked
//     at again ("###octopus[...]" is no message);
//   - the parser's state carries over from one line to the next: a marker
//     split over two lines still counts, and a message without its "]"
//     takes the following lines with it;
//   - a line yields at most one message: the rest of the line after a
//     message's "]" is not read;
//   - the message text is parsed as an XML element (<name attr='...'/>),
//     every attribute value is base64; a message that fails either is
//     ignored.
//
// Lines are what .NET's process output reader splits on: \n, \r or \r\n.
type Parser struct {
	buf   strings.Builder
	state int
	out   []Message
}

const (
	stateDefault = iota
	statePossible
	stateInMessage
)

// Line feeds one line (without its line break).
func (p *Parser) Line(line string) {
	for _, c := range line {
		switch p.state {
		case stateDefault:
			if c == '#' {
				p.state = statePossible
				p.buf.WriteRune(c)
			}
		case statePossible:
			p.buf.WriteRune(c)
			progress := p.buf.String()
			switch {
			case progress == marker:
				p.state = stateInMessage
				p.buf.Reset()
			case !strings.HasPrefix(marker, progress):
				p.state = stateDefault
				p.buf.Reset()
			}
		case stateInMessage:
			if c == ']' {
				if m, ok := processMessage(p.buf.String()); ok {
					p.out = append(p.out, m)
				}
				p.state = stateDefault
				p.buf.Reset()
				return
			}
			p.buf.WriteRune(c)
		}
	}
}

func processMessage(text string) (Message, bool) {
	text = strings.TrimLeft(strings.TrimSpace(text), "[")
	text = strings.NewReplacer("\r", "", "\n", "").Replace(text)
	dec := xml.NewDecoder(strings.NewReader("<" + text + "/>"))
	dec.Strict = true
	tok, err := dec.Token()
	if err != nil {
		return Message{}, false
	}
	start, ok := tok.(xml.StartElement)
	if !ok {
		return Message{}, false
	}
	// The rest must be exactly the element's end: XElement.Parse rejects
	// anything else.
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Message{}, false
		}
		if _, ok := tok.(xml.EndElement); !ok {
			return Message{}, false
		}
	}
	m := Message{Name: start.Name.Local, Attrs: map[string]string{}}
	for _, a := range start.Attr {
		v, err := base64.StdEncoding.DecodeString(a.Value)
		if err != nil {
			return Message{}, false
		}
		m.Attrs[strings.ToLower(a.Name.Local)] = string(v)
	}
	return m, true
}

// ParseLine decodes one stdout line on its own, with a fresh parser.
func ParseLine(line string) (m Message, ok bool) {
	var p Parser
	p.Line(line)
	if len(p.out) == 0 {
		return Message{}, false
	}
	return p.out[0], true
}

// Decode reads stdout output and returns its service messages in order,
// parsed as Calamari parses them (Parser).
func Decode(r io.Reader) ([]Message, error) {
	var p Parser
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	sc.Split(scanLines)
	for sc.Scan() {
		p.Line(sc.Text())
	}
	return p.out, sc.Err()
}

// scanLines splits on \n, \r and \r\n, as .NET's process output reader.
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	for i, c := range data {
		switch c {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil // need one more byte to know if \n follows
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
