package octopustest

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Feeds and packages: every space has the built-in feed only (read-only),
// the built-in feed's packages can be listed, and a package is uploaded by
// POST /packages/raw (multipart field "file", named
// <PackageId>.<version>.<extension>) with an overwrite mode.

// Package is an uploaded package.
type Package struct {
	PackageID string
	Version   string
	FileName  string
	Data      []byte
	Published time.Time
}

// Packages returns the uploaded packages.
func (s *Server) Packages(spaceID string) []Package {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Package
	for _, p := range s.space(spaceID).packages {
		out = append(out, *p)
	}
	return out
}

func builtinFeed(spaceID string) []obj {
	return []obj{{"Id": BuiltInFeedID, "Name": "Octopus Server (built-in)", "FeedType": "BuiltIn", "SpaceId": spaceID,
		"PackageAcquisitionLocationOptions": []any{"Server", "ExecutionTarget"}, "Links": obj{}}}
}

func (s *Server) feedRoutes(rt router) {
	rt.readOnly("/api/{space}/feeds", "FeedResource", func(r *http.Request) []obj {
		id, _ := s.spaceOf(r)
		return builtinFeed(id)
	}, find, unserved)
}

func (s *Server) packageRoutes(rt router) {
	rt.route("/api/{space}/packages", unserved, map[string]endpoint{http.MethodGet: s.listPackages})
	rt.route("/api/{space}/packages/raw", unserved, map[string]endpoint{http.MethodPost: s.upload})
	rt.handle("/api/{space}/packages/{rest...}", unserved)
}

func (s *Server) listPackages(r *http.Request) (int, string, any, error) {
	_, d := s.spaceOf(r)
	var items []obj
	for _, p := range d.packages {
		if f := r.URL.Query().Get("filter"); f == "" || strings.Contains(p.PackageID, f) {
			items = append(items, packageResource(p))
		}
	}
	return 200, "*PackageFromBuiltInFeedResource", collection(r, items), nil
}

var packageFileRe = regexp.MustCompile(`^([A-Za-z0-9_.-]+?)\.(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?)\.(tar\.gz|zip|tgz|nupkg|tar)$`)

func (s *Server) upload(r *http.Request) (int, string, any, error) {
	_, d := s.spaceOf(r)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return 0, "", nil, errorf(400, "A package file must be provided")
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return 0, "", nil, errorf(400, "read package: %v", err)
	}
	if len(data) == 0 {
		return 0, "", nil, errorf(400, "The uploaded package file had length equal to 0. Please upload a non-empty file.")
	}
	m := packageFileRe.FindStringSubmatch(hdr.Filename)
	if m == nil {
		return 0, "", nil, errorf(400, "The package file name %q is not <PackageId>.<version>.<extension>", hdr.Filename)
	}
	p := &Package{PackageID: m[1], Version: m[2], FileName: hdr.Filename, Data: data, Published: time.Now().UTC()}
	mode := r.URL.Query().Get("overwriteMode")
	if mode == "" {
		if r.URL.Query().Get("replace") == "true" {
			mode = "OverwriteExisting"
		} else {
			mode = "FailIfExists"
		}
	}
	for i, old := range d.packages {
		if old.PackageID != p.PackageID || old.Version != p.Version {
			continue
		}
		switch mode {
		case "IgnoreIfExists":
			return 200, "PackageFromBuiltInFeedResource", packageResource(old), nil
		case "OverwriteExisting":
			d.packages[i] = p
			return 201, "PackageFromBuiltInFeedResource", packageResource(p), nil
		default:
			return 0, "", nil, errorf(409, "A package with the same ID and version already exists. Please either re-package with a different version, or use the overwrite mode when pushing.")
		}
	}
	d.packages = append(d.packages, p)
	return 201, "PackageFromBuiltInFeedResource", packageResource(p), nil
}

func packageResource(p *Package) obj {
	ext := strings.TrimPrefix(p.FileName, p.PackageID+"."+p.Version)
	return obj{"Id": "packages-" + p.PackageID + "." + p.Version, "PackageId": p.PackageID, "Version": p.Version, "FeedId": BuiltInFeedID,
		"NuGetPackageId": p.PackageID, "NuGetFeedId": BuiltInFeedID, "PackageSizeBytes": len(p.Data), "FileExtension": ext,
		"Published": p.Published.Format(time.RFC3339), "Title": p.PackageID, "Summary": "", "Description": "", "ReleaseNotes": "", "Hash": "", "Links": obj{}}
}
