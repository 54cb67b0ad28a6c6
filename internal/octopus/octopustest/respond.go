package octopustest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// This file holds what every resource's handlers share: errors, the
// contract-checked request and response bodies, paging and name filters.

type apiError struct {
	status int
	msg    string
	errs   []string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, a ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, a...)}
}

// errNotFound is the server's answer for a path it has no resource at.
func errNotFound() *apiError {
	return errorf(http.StatusNotFound, "The resource you requested was not found.")
}

// write encodes a response. A response object is checked against the
// contract too (def names its definition; "[]X" an array of X, "*X" a
// collection of X): the fake must not teach the client anything a real
// server would not send.
func (s *Server) write(w http.ResponseWriter, status int, def string, body any) int {
	b, err := json.Marshal(body)
	if err != nil {
		return writeError(w, errorf(500, "encode response: %v", err))
	}
	if def != "" {
		v := decodeNumbers(b)
		var errs []string
		switch {
		case strings.HasPrefix(def, "[]"):
			for i, e := range v.([]any) {
				for _, m := range s.contract.check(def[2:], e) {
					errs = append(errs, fmt.Sprintf("[%d]%s", i, m))
				}
			}
		case strings.HasPrefix(def, "*"):
			for i, e := range v.(obj)["Items"].([]any) {
				for _, m := range s.contract.check(def[1:], e) {
					errs = append(errs, fmt.Sprintf("Items[%d]%s", i, m))
				}
			}
		default:
			errs = s.contract.check(def, v)
		}
		if len(errs) > 0 {
			return writeError(w, &apiError{status: 500, msg: "octopustest: response breaks the contract", errs: errs})
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return status
}

func writeError(w http.ResponseWriter, e error) int {
	ae, ok := e.(*apiError)
	if !ok {
		ae = &apiError{status: 500, msg: e.Error()}
	}
	b, _ := json.Marshal(obj{"ErrorMessage": ae.msg, "Errors": ae.errs})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(ae.status)
	_, _ = w.Write(b)
	return ae.status
}

// writeEcho writes an HTML error page listing the request's headers.
func writeEcho(w http.ResponseWriter, r *http.Request, status int) int {
	var b strings.Builder
	fmt.Fprintf(&b, "<html><body><h1>%d Internal Server Error</h1><pre>%s %s\n", status, r.Method, r.URL.Path)
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(r.Header[k], ", "))
	}
	b.WriteString("</pre></body></html>")
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
	return status
}

// readBody decodes a JSON request body and checks it against a contract
// definition.
func (s *Server) readBody(r *http.Request, def string) (obj, *apiError) {
	b, err := io.ReadAll(r.Body)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return nil, errorf(400, "No request body was supplied.")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf(400, "The request body is not valid JSON: %v", err)
	}
	if errs := s.contract.check(def, v); len(errs) > 0 {
		return nil, &apiError{status: 400, msg: "The request body does not match " + def + ".", errs: errs}
	}
	o, ok := v.(obj)
	if !ok {
		return nil, errorf(400, "expected a JSON object")
	}
	return normalizeNumbers(o).(obj), nil
}

// collection pages items as the server does: skip and take (default 30),
// with a Page.Next link while items remain. A negative skip counts as 0,
// as the server's paging (LINQ Skip) takes it.
func collection(r *http.Request, items []obj) obj {
	q := r.URL.Query()
	skip, _ := strconv.Atoi(q.Get("skip"))
	skip = max(skip, 0)
	take, err := strconv.Atoi(q.Get("take"))
	if err != nil || take <= 0 {
		take = 30
	}
	page := []any{}
	for i := skip; i < len(items) && i < skip+take; i++ {
		page = append(page, items[i])
	}
	links := obj{"Self": r.URL.Path}
	if skip+take < len(items) {
		next := *r.URL
		nq := next.Query()
		nq.Set("skip", strconv.Itoa(skip+take))
		nq.Set("take", strconv.Itoa(take))
		next.RawQuery = nq.Encode()
		links["Page.Next"] = next.RequestURI()
	}
	return obj{"ItemType": "", "TotalResults": len(items), "ItemsPerPage": take, "NumberOfPages": (len(items) + take - 1) / max(take, 1),
		"LastPageNumber": max((len(items)+take-1)/max(take, 1)-1, 0), "Items": page, "Links": links}
}

func filterByName(r *http.Request, items []obj) []obj {
	q := r.URL.Query()
	name, partial, ids := q.Get("name"), strings.ToLower(q.Get("partialName")), splitList(q["ids"])
	var out []obj
	for _, o := range items {
		n := str(o["Name"])
		if (name == "" || strings.EqualFold(n, name)) && (partial == "" || strings.Contains(strings.ToLower(n), partial)) &&
			(len(ids) == 0 || slices.Contains(ids, str(o["Id"]))) {
			out = append(out, o)
		}
	}
	return out
}
