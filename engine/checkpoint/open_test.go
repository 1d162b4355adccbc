package checkpoint

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeStore is a Store an extra Opener returns, remembering its URL.
type fakeStore struct {
	*MemStore
	url string
}

func openFake(_ context.Context, u *url.URL) (Store, error) {
	return fakeStore{MemStore: NewMemStore(), url: u.String()}, nil
}

func TestOpen(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp) // relative file URLs resolve here

	errOpen := errors.New("bucket unreachable")
	extra := map[string]Opener{
		"s3": openFake,
		"gs": func(context.Context, *url.URL) (Store, error) { return nil, errOpen },
	}
	tests := []struct {
		name    string
		url     string
		extra   map[string]Opener
		fileDir string // for a FileStore, its directory
		fake    string // for a fakeStore, its URL
		mem     bool   // a MemStore
		err     string // part of the error, if one is expected
		errIs   error
	}{
		{name: "absolute file", url: "file://" + filepath.ToSlash(tmp) + "/abs", fileDir: filepath.Join(tmp, "abs")},
		{name: "relative file", url: "file://.sluice/state", fileDir: filepath.Join(tmp, ".sluice", "state")},
		{name: "relative file one segment", url: "file://state", fileDir: filepath.Join(tmp, "state")},
		{name: "opaque file", url: "file:rel/dir", fileDir: filepath.Join(tmp, "rel", "dir")},
		{name: "scheme case", url: "FILE://upper", fileDir: filepath.Join(tmp, "upper")},
		{name: "file without directory", url: "file://", err: "must name a directory"},
		{name: "file with query", url: "file://state?sync=false", err: "takes no user, query or fragment"},
		{name: "mem", url: "mem://", mem: true},
		{name: "mem with name", url: "mem://name", err: "takes nothing after mem://"},
		{
			name: "unsupported",
			url:  "s3://bucket/prefix",
			err:  `checkpoint store "s3://bucket/prefix": unsupported scheme "s3" (supported: file, mem)`,
		},
		{
			name:  "unsupported lists extra schemes",
			url:   "azblob://c",
			extra: extra,
			err:   `unsupported scheme "azblob" (supported: file, mem, gs, s3)`,
		},
		{name: "no scheme", url: ".sluice/state", err: `unsupported scheme ""`},
		{name: "extra scheme", url: "s3://bucket/prefix?region=eu", extra: extra, fake: "s3://bucket/prefix?region=eu"},
		{name: "extra replaces built-in", url: "mem://", extra: map[string]Opener{"mem": openFake}, fake: "mem:"},
		{
			name:  "opener error is wrapped",
			url:   "gs://user:secret@bucket",
			extra: extra,
			err:   `checkpoint store "gs://user:xxxxx@bucket": bucket unreachable`,
			errIs: errOpen,
		},
		{name: "parse error hides the URL", url: "s3://user:secret@bu cket/", err: "checkpoint store: parse URL: invalid character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(t.Context(), tc.url, tc.extra)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Open(%q) = %v, want an error containing %q", tc.url, err, tc.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("Open(%q) error %q shows the password", tc.url, err)
				}
				if tc.errIs != nil && !errors.Is(err, tc.errIs) {
					t.Fatalf("Open(%q) = %v, want it to wrap %v", tc.url, err, tc.errIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q) = %v", tc.url, err)
			}
			switch s := s.(type) {
			case *FileStore:
				if s.dir != tc.fileDir {
					t.Fatalf("Open(%q) = FileStore on %q, want %q", tc.url, s.dir, tc.fileDir)
				}
				if fi, err := os.Stat(tc.fileDir); err != nil || !fi.IsDir() {
					t.Fatalf("directory %q not created: %v", tc.fileDir, err)
				}
			case *MemStore:
				if !tc.mem {
					t.Fatalf("Open(%q) = a MemStore, want something else", tc.url)
				}
			case fakeStore:
				if s.url != tc.fake {
					t.Fatalf("Open(%q) opened extra store with %q, want %q", tc.url, s.url, tc.fake)
				}
			default:
				t.Fatalf("Open(%q) = %T", tc.url, s)
			}
			if tc.fileDir == "" && !tc.mem && tc.fake == "" {
				t.Fatalf("test case %q expects nothing", tc.name)
			}
		})
	}
}
