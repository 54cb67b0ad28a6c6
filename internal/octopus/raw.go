package octopus

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/newclient"
)

// Doc is a resource exactly as the server sent it: every field, the ones
// go-octopusdeploy models and the ones it does not (prompt select options,
// endpoint types of step packages, fields of newer servers), with numbers
// kept as written. bluegreen reads what it changes as a Doc, changes the
// fields it owns and sends the rest back untouched, because a round trip
// through the client's typed structs loses what they do not model.
type Doc = map[string]any

// GetDoc reads the resource at path (from Path) through the client's
// HTTP session, so authentication and transport stay the client's.
func (c *Client) GetDoc(path string) (Doc, error) {
	raw, err := newclient.Get[json.RawMessage](c.API.HttpSession(), path)
	if err != nil {
		return nil, err
	}
	return decodeDoc(*raw)
}

// GetDocs reads a JSON array of resources (an .../all endpoint).
func (c *Client) GetDocs(path string) ([]Doc, error) {
	raw, err := newclient.Get[json.RawMessage](c.API.HttpSession(), path)
	if err != nil {
		return nil, err
	}
	var list []json.RawMessage
	if err := json.Unmarshal(*raw, &list); err != nil {
		return nil, fmt.Errorf("GET %s: expected a JSON array: %w", path, err)
	}
	out := make([]Doc, 0, len(list))
	for _, e := range list {
		d, err := decodeDoc(e)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", path, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// PutDoc writes d to path and returns the server's answer.
func (c *Client) PutDoc(path string, d Doc) (Doc, error) {
	raw, err := newclient.Put[json.RawMessage](c.API.HttpSession(), path, d)
	if err != nil {
		return nil, err
	}
	return decodeDoc(*raw)
}

// PostDoc creates d at path and returns the server's answer.
func (c *Client) PostDoc(path string, d Doc) (Doc, error) {
	raw, err := newclient.Post[json.RawMessage](c.API.HttpSession(), path, d)
	if err != nil {
		return nil, err
	}
	return decodeDoc(*raw)
}

func decodeDoc(b []byte) (Doc, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var d Doc
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("decode octopus resource: %w", err)
	}
	if d == nil {
		return nil, fmt.Errorf("decode octopus resource: expected a JSON object, found null")
	}
	return d, nil
}

// DocString returns the string field k of d ("" when missing or not a string).
func DocString(d Doc, k string) string {
	s, _ := d[k].(string)
	return s
}

// DocStrings returns the string list field k of d.
func DocStrings(d Doc, k string) []string {
	l, _ := d[k].([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// DocList returns the object list field k of d; its elements are the
// objects in d, so changing them changes d.
func DocList(d Doc, k string) []Doc {
	l, _ := d[k].([]any)
	out := make([]Doc, 0, len(l))
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// StringsValue turns a string list into the []any a Doc holds.
func StringsValue(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
