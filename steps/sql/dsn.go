package sql

import (
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// target is what a step may say about a database: a redacted name for
// errors and logs, and the secrets that must be scrubbed from any text
// that came back from the driver or a command.
type target struct {
	// name is user@host:port/db, without the password or any other
	// option, from a URL or a keyword/value DSN. For a DSN it cannot parse
	// it is what could be recognised, or "<unparsable dsn>".
	name string
	// secrets are the DSN itself and every spelling of its password that
	// may show up in text: raw, URL-escaped and URL-decoded.
	secrets []string
}

// newTarget parses dsn with pgx when it can (so that PGHOST, PGPASSWORD and
// the password file are taken into account exactly as the connection will
// take them) and by hand when pgx cannot, because a malformed DSN still has
// a password that must not leak through the parse error.
func newTarget(dsn string) *target {
	t := &target{}
	user, password, hosts, db := splitDSN(dsn)
	if cfg, err := pgconn.ParseConfig(dsn); err == nil {
		user, db = cfg.User, cfg.Database
		hosts = []string{hostPort(cfg.Host, cfg.Port)}
		for _, fb := range cfg.Fallbacks {
			if h := hostPort(fb.Host, fb.Port); h != hosts[len(hosts)-1] {
				hosts = append(hosts, h)
			}
		}
		t.addSecret(cfg.Password)
	}
	t.addSecret(password)
	t.addSecret(dsn)
	switch {
	case len(hosts) == 0 && user == "" && db == "":
		t.name = "<unparsable dsn>"
	default:
		name := strings.Join(hosts, ",")
		if user != "" {
			name = user + "@" + name
		}
		t.name = name + "/" + db
	}
	return t
}

// hostPort formats a host (or a socket directory) and a port.
func hostPort(host string, port uint16) string {
	if strings.HasPrefix(host, "/") {
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// addSecret records s and the spellings of it that text may contain.
func (t *target) addSecret(s string) {
	if s == "" {
		return
	}
	variants := []string{s, url.QueryEscape(s), url.PathEscape(s), url.UserPassword("", s).String()[1:]}
	if dec, err := url.PathUnescape(s); err == nil {
		variants = append(variants, dec)
	}
	for _, v := range variants {
		if v == "" {
			continue
		}
		dup := false
		for _, have := range t.secrets {
			if have == v {
				dup = true
				break
			}
		}
		if !dup {
			t.secrets = append(t.secrets, v)
		}
	}
	// Longest first, so the DSN is replaced as a whole before its password
	// is searched for inside what remains.
	sort.Slice(t.secrets, func(i, j int) bool { return len(t.secrets[i]) > len(t.secrets[j]) })
}

// scrub replaces every secret in s with the redaction marker.
func (t *target) scrub(s string) string {
	for _, secret := range t.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

var (
	urlDSN      = regexp.MustCompile(`^(?i)postgres(?:ql)?://`)
	keywordPair = regexp.MustCompile(`([a-zA-Z_]+)\s*=\s*('(?:\\.|[^'\\])*'|\S*)`)
)

// splitDSN takes a connection string apart by hand: user, password, hosts
// (host:port) and database. It is deliberately forgiving: its job is to
// find the password in strings that pgx rejects.
func splitDSN(dsn string) (user, password string, hosts []string, db string) {
	if loc := urlDSN.FindStringIndex(dsn); loc != nil {
		rest := dsn[loc[1]:]
		if q := strings.IndexByte(rest, '?'); q >= 0 {
			rest = rest[:q]
		}
		// The user info ends at the last @: an unescaped @ in a password
		// is malformed but common, and must not leak its second half.
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			info := rest[:at]
			rest = rest[at+1:]
			user, password, _ = strings.Cut(info, ":")
			if u, err := url.PathUnescape(user); err == nil {
				user = u
			}
		}
		hostPart, dbPart, _ := strings.Cut(rest, "/")
		if d, err := url.PathUnescape(dbPart); err == nil {
			dbPart = d
		}
		db = dbPart
		for _, h := range strings.Split(hostPart, ",") {
			if h != "" {
				hosts = append(hosts, h)
			}
		}
		return user, password, hosts, db
	}
	var host, port string
	for _, m := range keywordPair.FindAllStringSubmatch(dsn, -1) {
		v := m[2]
		if strings.HasPrefix(v, "'") && strings.HasSuffix(v, "'") && len(v) >= 2 {
			v = strings.ReplaceAll(v[1:len(v)-1], `\'`, `'`)
		}
		switch strings.ToLower(m[1]) {
		case "user":
			user = v
		case "password":
			password = v
		case "host":
			host = v
		case "port":
			port = v
		case "dbname":
			db = v
		}
	}
	if host != "" {
		if port != "" {
			host = net.JoinHostPort(host, port)
		}
		hosts = []string{host}
	}
	return user, password, hosts, db
}
