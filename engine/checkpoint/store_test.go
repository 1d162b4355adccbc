package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// stores returns a fresh instance of every Store implementation.
func stores(t *testing.T) map[string]Store {
	t.Helper()
	fs, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatalf("NewFileStore: %v", err)
	}
	return map[string]Store{"file": fs, "mem": NewMemStore()}
}

// mustLoad loads key and fails the test unless it holds want.
func mustLoad(t *testing.T, s Store, key, want string) {
	t.Helper()
	got, err := s.Load(t.Context(), key)
	if err != nil {
		t.Fatalf("Load(%q) = %v", key, err)
	}
	if string(got) != want {
		t.Fatalf("Load(%q) = %q, want %q", key, got, want)
	}
}

func TestStoreRoundTrip(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			for _, key := range []string{"top", "pipeline/shard-0", "a/b/c/d"} {
				if err := s.Save(ctx, key, []byte("v1 "+key)); err != nil {
					t.Fatalf("Save(%q) = %v", key, err)
				}
				mustLoad(t, s, key, "v1 "+key)
				if err := s.Save(ctx, key, []byte("v2")); err != nil {
					t.Fatalf("Save(%q) again = %v", key, err)
				}
				mustLoad(t, s, key, "v2")
			}
			if err := s.Save(ctx, "empty", nil); err != nil {
				t.Fatalf("Save of an empty token = %v", err)
			}
			mustLoad(t, s, "empty", "")
		})
	}
}

func TestStoreTokensAreCopied(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			token := []byte("abc")
			if err := s.Save(t.Context(), "k", token); err != nil {
				t.Fatal(err)
			}
			token[0] = 'X'
			got, _ := s.Load(t.Context(), "k")
			got[1] = 'Y'
			mustLoad(t, s, "k", "abc")
		})
	}
}

func TestStoreNotFoundAndDelete(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			if _, err := s.Load(ctx, "missing/key"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Load of a missing key = %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, "missing/key"); err != nil {
				t.Fatalf("Delete of a missing key = %v, want nil", err)
			}
			if err := s.Save(ctx, "dir/key", []byte("x")); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, "dir/key"); err != nil {
				t.Fatalf("Delete = %v", err)
			}
			if _, err := s.Load(ctx, "dir/key"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Load after Delete = %v, want ErrNotFound", err)
			}
			// The key's directory is left behind; it holds no token.
			if _, err := s.Load(ctx, "dir"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Load of a key's directory = %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, "dir"); err != nil {
				t.Fatalf("Delete of a key's directory = %v, want nil", err)
			}
			if err := s.Save(ctx, "dir/other", []byte("y")); err != nil {
				t.Fatalf("Save in a directory after Delete = %v", err)
			}
		})
	}
}

func TestStoreBadKeys(t *testing.T) {
	tests := []struct {
		key  string
		want string // part of the error
	}{
		{key: "", want: "must not be empty"},
		{key: "/etc/passwd", want: "must be relative"},
		{key: "..", want: `segment ".." is not allowed`},
		{key: "../escape", want: `segment ".." is not allowed`},
		{key: "a/../../escape", want: `segment ".." is not allowed`},
		{key: "a/./b", want: `segment "." is not allowed`},
		{key: "a//b", want: "empty path segment"},
		{key: "a/", want: "empty path segment"},
		{key: `a\b`, want: "backslash"},
		{key: "a\x00b", want: "NUL"},
	}
	for name, s := range stores(t) {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/%q", name, tc.key), func(t *testing.T) {
				ctx := t.Context()
				errs := map[string]error{
					"Load":   func() error { _, err := s.Load(ctx, tc.key); return err }(),
					"Save":   s.Save(ctx, tc.key, []byte("x")),
					"Delete": s.Delete(ctx, tc.key),
				}
				for op, err := range errs {
					if err == nil || !strings.Contains(err.Error(), tc.want) {
						t.Errorf("%s(%q) = %v, want an error containing %q", op, tc.key, err, tc.want)
					}
					if errors.Is(err, ErrNotFound) {
						t.Errorf("%s(%q) = %v, want an error that is not ErrNotFound", op, tc.key, err)
					}
				}
			})
		}
	}
}

func TestStoreContextEnded(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := s.Save(ctx, "k", []byte("x")); !errors.Is(err, context.Canceled) {
				t.Fatalf("Save = %v, want context.Canceled", err)
			}
			if _, err := s.Load(ctx, "k"); !errors.Is(err, context.Canceled) {
				t.Fatalf("Load = %v, want context.Canceled", err)
			}
			if err := s.Delete(ctx, "k"); !errors.Is(err, context.Canceled) {
				t.Fatalf("Delete = %v, want context.Canceled", err)
			}
		})
	}
}

func TestStoreConcurrentSaves(t *testing.T) {
	const (
		keys   = 16
		rounds = 20
	)
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			var wg sync.WaitGroup
			for k := range keys {
				key := fmt.Sprintf("shards/%d/pos", k%4) // some keys share a directory being created
				if k >= 4 {
					key = fmt.Sprintf("shards/%d/pos-%d", k%4, k)
				}
				wg.Go(func() {
					for r := range rounds {
						if err := s.Save(ctx, key, fmt.Appendf(nil, "%s@%d", key, r)); err != nil {
							t.Errorf("Save(%q) = %v", key, err)
							return
						}
					}
				})
			}
			wg.Wait()
			for k := range keys {
				key := fmt.Sprintf("shards/%d/pos", k%4)
				if k >= 4 {
					key = fmt.Sprintf("shards/%d/pos-%d", k%4, k)
				}
				mustLoad(t, s, key, fmt.Sprintf("%s@%d", key, rounds-1))
			}
		})
	}
}

func TestFileStoreLayout(t *testing.T) {
	dir := t.TempDir()
	s, err := NewFileStore(filepath.Join(dir, "state", "nested"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(t.Context(), "pipe/shard-1", []byte("tok")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "state", "nested", "pipe", "shard-1"))
	if err != nil || string(got) != "tok" {
		t.Fatalf("token file = %q, %v; want tok", got, err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "state", "nested", "pipe"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("directory holds %v, want only the token file and no temporary file", entries)
	}

	// A key cannot be both a token and a directory of other keys.
	if err := s.Save(t.Context(), "pipe/shard-1/deeper", []byte("x")); err == nil {
		t.Fatal("Save under a key that holds a token = nil, want an error")
	}
	if _, err := s.Load(t.Context(), "pipe/shard-1/deeper"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load under a key that holds a token = %v, want ErrNotFound", err)
	}
}

func TestFileStoreSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s1, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Save(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	s2, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustLoad(t, s2, "k", "v")
}

func TestNewFileStoreErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", file, filepath.Join(file, "sub")} {
		if _, err := NewFileStore(dir); err == nil {
			t.Errorf("NewFileStore(%q) = nil error, want one", dir)
		}
	}
}
