package bucket

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{"mem://", "file://" + dir, "file://" + filepath.Join(dir, "new", "sub")} {
		t.Run(u, func(t *testing.T) {
			b, err := Open(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if err := b.WriteAll(t.Context(), "a/b.txt", []byte("x"), nil); err != nil {
				t.Fatal(err)
			}
			got, err := b.ReadAll(t.Context(), "a/b.txt")
			if err != nil || string(got) != "x" {
				t.Fatalf("read back %q, %v", got, err)
			}
		})
	}
	t.Run("relative file URL", func(t *testing.T) {
		wd, _ := os.Getwd()
		t.Chdir(dir)
		defer t.Chdir(wd)
		b, err := Open(t.Context(), "file://rel/lake")
		if err != nil {
			t.Fatal(err)
		}
		b.WriteAll(t.Context(), "k", []byte("v"), nil)
		b.Close()
		if _, err := os.Stat(filepath.Join(dir, "rel", "lake", "k")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unsupported", func(t *testing.T) {
		_, err := Open(t.Context(), "ftp://x/y?secret=1")
		if err == nil || !strings.Contains(err.Error(), "unsupported scheme") || strings.Contains(err.Error(), "secret") {
			t.Fatalf("err = %v", err)
		}
	})
}
