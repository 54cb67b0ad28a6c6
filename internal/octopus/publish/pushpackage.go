package publish

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/packages"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/templates"
)

// PackageArchs are the platforms the bluegreen package carries; the
// templates' scripts pick linux-<arch>/bluegreen by `uname -m`.
var PackageArchs = []string{"amd64", "arm64"}

// ErrPackageExists is returned by PushPackage when the feed already holds
// that version and overwrite was not asked for.
var ErrPackageExists = errors.New("package version already in the feed")

var semverRe = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

// BuildOptions say how to make the package.
type BuildOptions struct {
	// Version is the package version (SemVer, without build metadata,
	// which Octopus would drop).
	Version string
	// Binaries maps an arch ("amd64", "arm64") to a prebuilt linux binary.
	// Missing archs are cross-compiled from Main.
	Binaries map[string]string
	// Main is the main package to build (default ./cmd/bluegreen), built
	// in Dir (default: the current directory).
	Main string
	Dir  string
	// OutDir receives the package file (default: a new temporary directory).
	OutDir string
}

// BuildPackage writes bluegreen.<version>.tar.gz holding
// linux-amd64/bluegreen and linux-arm64/bluegreen (mode 0755) and returns
// its path. Binaries that were not given are cross-compiled with
// CGO_ENABLED=0 so they run on any Linux worker.
func BuildPackage(ctx context.Context, opts BuildOptions) (string, error) {
	if !semverRe.MatchString(opts.Version) {
		return "", fmt.Errorf("package version %q is not a SemVer version such as 1.2.3 or 1.2.3-rc.1", opts.Version)
	}
	out := opts.OutDir
	if out == "" {
		d, err := os.MkdirTemp("", "bluegreen-package-")
		if err != nil {
			return "", fmt.Errorf("create package directory: %w", err)
		}
		out = d
	}
	bins := map[string]string{}
	for _, arch := range PackageArchs {
		if p := opts.Binaries[arch]; p != "" {
			bins[arch] = p
			continue
		}
		p, err := crossCompile(ctx, opts, arch, out)
		if err != nil {
			return "", err
		}
		bins[arch] = p
	}
	path := filepath.Join(out, fmt.Sprintf("%s.%s.tar.gz", templates.PackageName, opts.Version))
	if err := writeTarGz(path, bins); err != nil {
		return "", err
	}
	return path, nil
}

func crossCompile(ctx context.Context, opts BuildOptions, arch, out string) (string, error) {
	main := opts.Main
	if main == "" {
		main = "./cmd/bluegreen"
	}
	bin := filepath.Join(out, "bluegreen-linux-"+arch)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, main)
	cmd.Dir = opts.Dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s for linux/%s: %w\n%s", main, arch, err, b)
	}
	return bin, nil
}

func writeTarGz(path string, bins map[string]string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create package: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write package: %w", cerr)
		}
	}()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, arch := range PackageArchs {
		src, err := os.Open(bins[arch])
		if err != nil {
			return fmt.Errorf("package binary for linux/%s: %w", arch, err)
		}
		fi, err := src.Stat()
		if err != nil {
			src.Close()
			return err
		}
		// A fixed mtime keeps the archive the same for the same binaries.
		hdr := &tar.Header{Name: "linux-" + arch + "/bluegreen", Mode: 0o755, Size: fi.Size(), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			src.Close()
			return fmt.Errorf("write package: %w", err)
		}
		_, err = io.Copy(tw, src)
		src.Close()
		if err != nil {
			return fmt.Errorf("write package: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write package: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("write package: %w", err)
	}
	return nil
}

// PushResult describes an upload.
type PushResult struct {
	PackageID string
	Version   string
	FeedID    string
	// Created is true when the feed stored the file (always, since an
	// existing version is an error).
	Created bool
	Size    int
}

// PushPackage uploads a package file to the space's built-in feed. Without
// overwrite an existing version is an ErrPackageExists.
func PushPackage(c *octopus.Client, file string, overwrite bool) (*PushResult, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("open package: %w", err)
	}
	defer f.Close()
	// IgnoreIfExists rather than FailIfExists: the client drops the status
	// of a failed upload, but it does report whether a new file was
	// created, so "kept the existing file" is how an existing version is
	// recognised without matching error text.
	mode := packages.OverwriteModeIgnoreIfExists
	if overwrite {
		mode = packages.OverwriteModeOverwriteExisting
	}
	resp, created, err := packages.Upload(c.API, c.SpaceID, filepath.Base(file), f, mode)
	if err != nil {
		return nil, fmt.Errorf("upload %s to the built-in feed of %s: %w", filepath.Base(file), c.SpaceID, err)
	}
	if !created {
		return nil, fmt.Errorf("upload %s to the built-in feed of %s: %w (use --overwrite to replace it)", filepath.Base(file), c.SpaceID, ErrPackageExists)
	}
	return &PushResult{PackageID: resp.PackageId, Version: resp.Version, FeedID: resp.FeedId, Created: created, Size: resp.PackageSizeBytes}, nil
}
