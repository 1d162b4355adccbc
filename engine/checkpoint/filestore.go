package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
)

// FileStore is a Store that keeps each token in a file of its own under a
// directory; a key's slashes separate subdirectories. It is the default
// store of a pipeline that runs on one machine.
//
// Save writes a temporary file next to the token's file, syncs it, renames
// it over the old one and syncs the directory, so a crash leaves either the
// old token or the new one, never a torn one. A key cannot be both a token
// and a directory of other keys: with a token under "a", saving "a/b"
// fails.
//
// The methods check ctx before they start; file I/O is not interrupted.
// FileStore is safe for concurrent use; of two concurrent Saves of one key,
// the one that renames last wins.
type FileStore struct {
	dir string // absolute

	// mkdirMu makes a Save that finds a directory wait until the Save that
	// is creating it has made it durable.
	mkdirMu sync.Mutex
}

// NewFileStore returns a FileStore that keeps its files under dir, creating
// dir if it does not exist. A relative dir is resolved against the working
// directory now, so a later change of directory does not move the store.
func NewFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("checkpoint file store: directory must be set")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint file store %q: %w", dir, err)
	}
	s := &FileStore{dir: abs}
	if err := s.mkdirs(abs); err != nil {
		return nil, fmt.Errorf("checkpoint file store %q: %w", dir, err)
	}
	return s, nil
}

// Load returns the token saved under key, or an error wrapping ErrNotFound.
func (s *FileStore) Load(ctx context.Context, key string) ([]byte, error) {
	if err := begin(ctx, "load", key); err != nil {
		return nil, err
	}
	token, err := os.ReadFile(s.path(key))
	if noToken(err) {
		return nil, fmt.Errorf("load checkpoint %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %q: %w", key, err)
	}
	return token, nil
}

// Save atomically replaces the token under key, creating the directories
// the key names, and returns nil once the token is on stable storage.
func (s *FileStore) Save(ctx context.Context, key string, token []byte) error {
	if err := begin(ctx, "save", key); err != nil {
		return err
	}
	if err := s.writeFileAtomic(s.path(key), token); err != nil {
		return fmt.Errorf("save checkpoint %q: %w", key, err)
	}
	return nil
}

// Delete removes the token under key, if there is one, and syncs its
// directory. It leaves the directories the key names in place, as a
// concurrent Save may be about to use them.
func (s *FileStore) Delete(ctx context.Context, key string) error {
	if err := begin(ctx, "delete", key); err != nil {
		return err
	}
	path := s.path(key)
	// os.Remove would also remove an empty directory; that is no token.
	fi, err := os.Lstat(path)
	if noToken(err) || (err == nil && fi.IsDir()) {
		return nil
	}
	if err == nil {
		err = os.Remove(path)
	}
	if noToken(err) {
		return nil // deleted concurrently
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("delete checkpoint %q: %w", key, err)
	}
	return nil
}

// path returns the file of the token under a valid key.
func (s *FileStore) path(key string) string {
	return filepath.Join(s.dir, filepath.FromSlash(key))
}

// noToken reports whether err from reading or removing a token's file means
// that there is no token: the file, or a directory on its path, is missing,
// or something on its path is not what a key makes of it.
func noToken(err error) bool {
	return errors.Is(err, fs.ErrNotExist) ||
		errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, syscall.EISDIR)
}

// writeFileAtomic replaces the file at path with one holding data, durably:
// it writes a temporary file in the same directory, syncs it, renames it
// over path and syncs the directory.
func (s *FileStore) writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := s.mkdirs(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()           // may be closed already; the first error is the one to report
			os.Remove(f.Name()) // may be renamed already
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// mkdirs creates dir and its missing parents like os.MkdirAll, and also
// syncs the parent of every directory it creates, so that a token saved in
// it survives a crash.
func (s *FileStore) mkdirs(dir string) error {
	s.mkdirMu.Lock()
	defer s.mkdirMu.Unlock()
	return mkdirsLocked(dir)
}

// mkdirsLocked does the work of mkdirs; the caller holds mkdirMu.
func mkdirsLocked(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirsLocked(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

// syncDir flushes the entries of directory dir to stable storage.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // Windows cannot sync a directory
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
